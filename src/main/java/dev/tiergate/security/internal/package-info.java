/**
 * Filters and stores behind operator and tenant authentication.
 */
package dev.tiergate.security.internal;
