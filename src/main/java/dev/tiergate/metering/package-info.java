/**
 * GPU use measured and billed: lease time attributed to tenants as GPU-seconds.
 */
package dev.tiergate.metering;
