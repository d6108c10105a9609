/**
 * Authentication of operators (dashboard, REST for CI) and tenants (API keys).
 */
package dev.tiergate.security;
