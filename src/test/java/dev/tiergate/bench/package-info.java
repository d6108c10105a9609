/**
 * The benchmarks' programs: for the front door ({@code bench/run.sh}) the simulated fleet
 * on its own and a load generator corrected for coordinated omission; for batch work
 * ({@code bench/batch.sh}) one 10,000-item batch measured for Redis commands and slot
 * use.
 */
package dev.tiergate.bench;
