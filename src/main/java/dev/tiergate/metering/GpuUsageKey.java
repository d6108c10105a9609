package dev.tiergate.metering;

import java.time.LocalDate;

import dev.tiergate.tier.Tier;

/**
 * What attributed GPU time is summed by.
 *
 * @param tenant tenant id
 * @param tier the tier the requests ran in
 * @param model the model (pool)
 * @param day the UTC day the GPU time fell in
 */
public record GpuUsageKey(String tenant, Tier tier, String model, LocalDate day) {

}
