/**
 * The audit log: who changed what through Tiergate, when, with before and after, in a
 * Redis stream.
 */
package dev.tiergate.audit;
