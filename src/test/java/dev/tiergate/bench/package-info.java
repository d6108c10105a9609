/**
 * The front-door benchmark's processes: the simulated fleet on its own and a load
 * generator corrected for coordinated omission ({@code bench/run.sh}).
 */
package dev.tiergate.bench;
