package dev.tiergate.metering;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.cluster.InferencePod;
import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchProperties;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.TestingQuota;
import dev.tiergate.quota.UsageRecord;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link GpuUsageWriter}: GPU-seconds land in the tenants' usage in Redis,
 * beside their tokens (the real Redis on 127.0.0.1:6379, test database).
 */
class GpuUsageWriterTests {

	private static final StringRedisTemplate redis = LocalRedis.template();

	private static final LocalDate DAY = LocalDate.parse("2026-11-29");

	private final String acme = "g-" + UUID.randomUUID().toString().substring(0, 8);

	private final String beta = "g-" + UUID.randomUUID().toString().substring(0, 8);

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(2, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock,
			new SimpleMeterRegistry());

	private final QuotaService quota = TestingQuota.service(redis);

	private final GpuMeter meter = new GpuMeter(this.cluster, this.clock,
			(product) -> product.equals("NVIDIA-L4") ? 3.6 : 0);

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final GpuUsageWriter writer = new GpuUsageWriter(this.meter, this.quota, this.meters, 1);

	GpuUsageWriterTests() {
		this.runtime.addLeaseListener(this.meter);
		this.cluster.addNode(new GpuNode("node-1", "NVIDIA-L4", 1, 2, "mps", 23034, 2, 2, true));
		this.cluster
			.upsert(new InferencePod("default", "a", "a-uid", "m", "node-1", "127.0.0.1", 8000, 2, 1, "", true, false));
	}

	@AfterEach
	void cleanUp() {
		this.quota.close();
		redis.delete(List.of(usageKey(this.acme), usageKey(this.beta)));
	}

	private static String usageKey(String tenant) {
		return "tg:quota:{" + tenant + "}:usage:2026-11";
	}

	@Test
	void gpuSecondsAreAddedToEachTenantsOwnUsageBesideItsTokens() throws Exception {
		redis.opsForHash().increment(usageKey(this.acme), DAY + "|P0|m|requests", 3);
		Admission first = this.runtime.admit("m", Tier.P0, this.acme, 1, 10);
		first.awaitSlot();
		Admission second = this.runtime.admit("m", Tier.P2, this.beta, 1, 10);
		second.awaitSlot();
		this.clock.advance(Duration.ofSeconds(10));
		first.close();
		this.writer.flush();
		this.clock.advance(Duration.ofSeconds(4));
		second.close();
		this.writer.flush();
		// Half the GPU (one slice of two), 10 s of two sequences, then beta alone for 4
		// s.
		List<UsageRecord> acmeUsage = this.quota.usage(this.acme, YearMonth.of(2026, 11));
		assertThat(acmeUsage).singleElement().satisfies((r) -> {
			assertThat(r.requests()).isEqualTo(3);
			assertThat(r.tier()).isEqualTo(Tier.P0);
			assertThat(r.gpuSeconds()).isCloseTo(2.5, within(1e-9));
			// $3.60 an hour: $0.001 a GPU-second.
			assertThat(r.gpuCost()).isCloseTo(0.0025, within(1e-12));
		});
		List<UsageRecord> betaUsage = this.quota.usage(this.beta, YearMonth.of(2026, 11));
		assertThat(betaUsage).singleElement().satisfies((r) -> {
			assertThat(r.requests()).isZero();
			assertThat(r.tier()).isEqualTo(Tier.P2);
			assertThat(r.gpuSeconds()).isCloseTo(2.5 + 2.0, within(1e-9));
			assertThat(r.gpuCost()).isCloseTo(0.0045, within(1e-12));
		});
		// One tenant named in the metric's labels (the bound is 1); the other counts as
		// "other", and nothing is lost.
		assertThat(this.meters.find("tiergate.tenant.gpu.seconds").counters())
			.extracting((counter) -> counter.getId().getTag("tenant"))
			.isSubsetOf(this.acme, this.beta, "other")
			.contains("other")
			.hasSize(2);
		assertThat(
				this.meters.find("tiergate.tenant.gpu.seconds").counters().stream().mapToDouble((c) -> c.count()).sum())
			.isCloseTo(7.0, within(1e-9));
	}

}
