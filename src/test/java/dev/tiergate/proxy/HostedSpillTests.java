package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.cost.PriceSheets;
import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchProperties;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.fleet.SimulatedHostedApi;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.spill.HostedClient;
import dev.tiergate.spill.SpillBudget;
import dev.tiergate.spill.SpillMetrics;
import dev.tiergate.spill.SpillProperties;
import dev.tiergate.spill.Spillover;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link HostedSpill}: a saturated fleet's request served by the simulated
 * hosted API, its spend reserved and settled on the local Redis (in a month of its own),
 * and every hosted failure sent back to the fleet's queue, never answered 500.
 */
@ExtendWith(OutputCaptureExtension.class)
class HostedSpillTests {

	private static final String KEY = "sk-hosted-test-0123456789";

	private final StringRedisTemplate redis = LocalRedis.template();

	private final Instant now = Instant.parse("2600-01-15T00:00:00Z")
		.plus(Duration.ofDays(31L * new Random().nextInt(12 * 300)));

	private final Clock clock = Clock.fixed(this.now, ZoneOffset.UTC);

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(1, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock,
			new SimpleMeterRegistry());

	private final JsonMapper json = JsonMapper.builder().build();

	private final Sweeper sweeper = new Sweeper("hosted-spill-tests", Duration.ofMillis(10));

	private SimulatedHostedApi hosted;

	private Admission holder;

	@BeforeEach
	void saturate() throws Exception {
		this.hosted = new SimulatedHostedApi(KEY);
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		this.holder = this.runtime.admit("m", Tier.P0, "other", 1, 10);
		this.holder.awaitSlot();
	}

	@AfterEach
	void stop() {
		this.holder.close();
		this.hosted.close();
		this.sweeper.close();
		this.redis
			.delete(this.redis.keys("tg:spill:{spend}:" + YearMonth.from(this.now.atZone(ZoneOffset.UTC)) + ":*"));
	}

	private Spillover spillover(double cap, Duration timeout) {
		SpillProperties.Upstream upstream = new SpillProperties.Upstream(this.hosted.baseUri(), "hosted-model", KEY,
				Duration.ofSeconds(2), timeout, timeout);
		SpillProperties properties = new SpillProperties(Map.of("m", upstream), Map.of(), cap, null, Map.of());
		return new Spillover(properties, new PriceSheets(), new SpillBudget(this.redis, properties, this.clock),
				new HostedClient(this.json), new SpillMetrics(this.meters));
	}

	private HostedSpill hostedSpill(Spillover spillover) {
		return new HostedSpill(spillover, this.json, new ProxyProperties(null, null, null, null, null, 256,
				org.springframework.util.unit.DataSize.ofKilobytes(8), null, 32768, null, true,
				ProxyProperties.UpstreamClientKind.POOLED, java.time.Duration.ofSeconds(4), 256, false, 0, true),
				this.sweeper);
	}

	private static ExchangeRequest request(boolean stream) {
		String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":8"
				+ (stream ? ",\"stream\":true" : "") + "}";
		return new ExchangeRequest("/v1/chat/completions", body.getBytes(StandardCharsets.UTF_8), stream, "req-1",
				Tier.P0);
	}

	@Test
	void aSaturatedP0RequestIsServedByTheHostedApiAndCostsItsUsage() throws Exception {
		Spillover spillover = spillover(10, Duration.ofSeconds(5));
		Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
		Map<String, String> headers = new HashMap<>();
		Sink sink = new Sink();
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
			assertThat(waiting.awaitSlot(plan.spillAfter())).isNull();
			ExchangeResult result = hostedSpill(spillover).forward(plan, waiting, request(false), sink, headers::put);
			assertThat(result.outcome()).isEqualTo(ExchangeOutcome.DONE);
			assertThat(result.status()).isEqualTo(200);
		}
		assertThat(headers).containsEntry("x-tiergate-served-by", "hosted");
		assertThat(sink.text()).contains("\"service_tier\":\"priority\"").contains("\"usage\"");
		assertThat(this.hosted.received()).singleElement()
			.satisfies((body) -> assertThat(body.path("model").asString()).isEqualTo("hosted-model"));
		// The request left the fleet's queue.
		assertThat(this.runtime.snapshots().get(0).queued()).isZero();
		// Usage from the answer at $2.50/$10.00 per 1M tokens, not the reservation.
		long prompt = this.hosted.received().get(0).toString().length() / 4;
		double cost = (prompt * 2.50 + 8 * 10.00) / 1_000_000;
		assertThat(spillover.budget().tenantSpend("acme")).isCloseTo(cost, org.assertj.core.data.Offset.offset(1e-6));
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "served").counter().count()).isOne();
		assertThat(this.meters.get("tiergate.spill.cost.dollars").tag("tenant", "acme").counter().count())
			.isGreaterThan(0);
	}

	@Test
	void aStreamPassesThroughEventByEventAndIsSettledWithItsUsageEvent() throws Exception {
		Spillover spillover = spillover(10, Duration.ofSeconds(5));
		Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
		Sink sink = new Sink();
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
			ExchangeResult result = hostedSpill(spillover).forward(plan, waiting, request(true), sink,
					(name, value) -> {
					});
			assertThat(result.outcome()).isEqualTo(ExchangeOutcome.DONE);
		}
		assertThat(sink.contentType).startsWith("text/event-stream");
		assertThat(sink.text()).contains("\"delta\"").contains("\"usage\"").endsWith("data: [DONE]\n\n");
		assertThat(sink.flushes).isGreaterThan(1);
		assertThat(this.hosted.received().get(0).path("stream_options").path("include_usage").asBoolean()).isTrue();
		assertThat(spillover.budget().tenantSpend("acme")).isLessThan(plan.maxCost() + 1e-6).isGreaterThan(0);
	}

	@Test
	void aClientThatLeavesAbortsTheHostedCallAndPaysNothing() throws Exception {
		this.hosted.hang(Duration.ofSeconds(5));
		Spillover spillover = spillover(10, Duration.ofSeconds(10));
		Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
		Duration took;
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
			// What the client probe does when it finds the connection closed.
			Thread.ofVirtual().start(() -> {
				try {
					Thread.sleep(300);
				}
				catch (InterruptedException ex) {
					return;
				}
				waiting.abandon();
			});
			long started = System.nanoTime();
			ExchangeResult result = hostedSpill(spillover).forward(plan, waiting, request(false), new Sink(),
					(name, value) -> {
					});
			took = Duration.ofNanos(System.nanoTime() - started);
			assertThat(result).isNull();
			assertThatThrownBy(waiting::awaitSlot).isInstanceOf(Admission.Abandoned.class);
		}
		// Not the 5 s the hosted API takes, and nothing charged for an answer nobody
		// reads.
		assertThat(took).isLessThan(Duration.ofSeconds(3));
		assertThat(this.hosted.received()).hasSize(1);
		assertThat(spillover.budget().tenantSpend("acme")).isZero();
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "client_gone").counter().count()).isOne();
		assertThat(this.meters.find("tiergate.spill.requests").tag("outcome", "served").counter()).isNull();
	}

	@Test
	void whenTheCapIsReachedTheRequestStaysQueuedForTheFleet() throws Exception {
		Spillover spillover = spillover(0.0000001, Duration.ofSeconds(5));
		Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
			assertThat(hostedSpill(spillover).forward(plan, waiting, request(false), new Sink(), (name, value) -> {
			})).isNull();
			assertThat(this.runtime.snapshots().get(0).queued()).isEqualTo(1);
		}
		assertThat(this.hosted.received()).isEmpty();
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "cap_reached").counter().count()).isOne();
	}

	@Test
	void whenTheSpendCannotBeReservedTheRequestStaysQueuedForTheFleet() throws Exception {
		int port;
		try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
			port = free.getLocalPort();
		}
		// A Redis that is not there.
		org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory connections = new org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory(
				new org.springframework.data.redis.connection.RedisStandaloneConfiguration("127.0.0.1", port));
		connections.afterPropertiesSet();
		connections.start();
		try {
			SpillProperties properties = new SpillProperties(
					Map.of("m",
							new SpillProperties.Upstream(this.hosted.baseUri(), "hosted-model", KEY,
									Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5))),
					Map.of(), 10.0, null, Map.of());
			Spillover spillover = new Spillover(properties, new PriceSheets(),
					new SpillBudget(new StringRedisTemplate(connections), properties, this.clock),
					new HostedClient(this.json), new SpillMetrics(this.meters));
			Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
			try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
				assertThat(hostedSpill(spillover).forward(plan, waiting, request(false), new Sink(), (name, value) -> {
				})).isNull();
				assertThat(this.runtime.snapshots().get(0).queued()).isEqualTo(1);
			}
			assertThat(this.hosted.received()).isEmpty();
			assertThat(
					this.meters.get("tiergate.spill.requests").tag("outcome", "budget_unavailable").counter().count())
				.isOne();
		}
		finally {
			connections.destroy();
		}
	}

	@Test
	void aHosted429FallsBackToTheFleetAndCostsNothing() throws Exception {
		this.hosted.failNext(1, 429);
		assertFallsBack(Duration.ofSeconds(5));
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "hosted_rate_limited").counter().count())
			.isOne();
	}

	@Test
	void aHosted500FallsBackToTheFleetNotPassedOn() throws Exception {
		this.hosted.failNext(1, 500);
		assertFallsBack(Duration.ofSeconds(5));
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "hosted_error").counter().count()).isOne();
	}

	@Test
	void aHostedTimeoutFallsBackToTheFleet() throws Exception {
		this.hosted.hang(Duration.ofSeconds(2));
		assertFallsBack(Duration.ofMillis(200));
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "hosted_timeout").counter().count())
			.isOne();
	}

	@Test
	void aRefusedConnectionFallsBackToTheFleet() throws Exception {
		this.hosted.close();
		assertFallsBack(Duration.ofSeconds(2));
		assertThat(this.meters.get("tiergate.spill.requests").tag("outcome", "hosted_error").counter().count()).isOne();
	}

	@Test
	void theHostedKeyNeverAppearsInLogs(CapturedOutput output) throws Exception {
		this.hosted.failNext(1, 500);
		assertFallsBack(Duration.ofSeconds(5));
		this.hosted.hang(Duration.ofSeconds(2));
		assertFallsBack(Duration.ofMillis(200));
		assertThat(this.hosted.authorizations()).contains("Bearer " + KEY);
		assertThat(output.getAll()).doesNotContain(KEY).contains("Hosted upstream");
	}

	/**
	 * The hosted call fails: nothing reaches the caller, nothing is billed, the request
	 * left the fleet's queue for the call and, back in it, takes the next free slot.
	 */
	private void assertFallsBack(Duration timeout) throws Exception {
		Spillover spillover = spillover(10, timeout);
		Spillover.Plan plan = spillover.plan("m", Tier.P0, "acme", 100, 8).orElseThrow();
		Sink sink = new Sink();
		Map<String, String> headers = new HashMap<>();
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "acme", 1, 108)) {
			assertThat(waiting.awaitSlot(plan.spillAfter())).isNull();
			assertThat(hostedSpill(spillover).forward(plan, waiting, request(false), sink, headers::put)).isNull();
			assertThat(this.runtime.snapshots().get(0).queued()).isZero();
			waiting.rejoin();
			assertThat(this.runtime.snapshots().get(0).queued()).isOne();
			this.holder.close();
			assertThat(waiting.awaitSlot().endpoint().key()).contains("a");
		}
		this.holder = this.runtime.admit("m", Tier.P0, "other", 1, 10);
		this.holder.awaitSlot();
		assertThat(sink.status).isZero();
		assertThat(headers).doesNotContainKey("x-tiergate-served-by");
		assertThat(spillover.budget().tenantSpend("acme")).isZero();
	}

	/** A sink that keeps the answer. */
	static final class Sink implements AnswerSink {

		final ByteArrayOutputStream body = new ByteArrayOutputStream();

		int status;

		String contentType;

		int flushes;

		@Override
		public OutputStream begin(int status, String contentType, long contentLength) {
			this.status = status;
			this.contentType = contentType;
			return this.body;
		}

		@Override
		public void flush() {
			this.flushes++;
		}

		String text() {
			return this.body.toString(StandardCharsets.UTF_8);
		}

	}

}
