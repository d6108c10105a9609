/**
 * The one error vocabulary every module shares: problem type URIs, the base shape of
 * feature exceptions, and OpenAI's error body; the web module turns them into answers.
 */
package dev.tiergate.problem;
