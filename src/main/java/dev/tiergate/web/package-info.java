/**
 * Dashboard pages, REST error handling and the shared layout.
 */
package dev.tiergate.web;
