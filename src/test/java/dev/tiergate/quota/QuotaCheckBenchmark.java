package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.tier.Tier;

/**
 * Cost of one quota admission check (the {@code admit.lua} round trip, all four limits
 * set) against the local Redis, from one thread on one connection: p50/p99 microseconds
 * per check and checks per second. Not a test; run it with the command in
 * {@code docs/benchmarks.md}. Arguments: [checks (default 200000)] [redis port (default
 * 6379)].
 */
public final class QuotaCheckBenchmark {

	private QuotaCheckBenchmark() {
	}

	public static void main(String[] args) {
		int checks = (args.length > 0) ? Integer.parseInt(args[0]) : 200_000;
		int port = (args.length > 1) ? Integer.parseInt(args[1]) : 6379;
		LettuceConnectionFactory connections = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", port));
		connections.afterPropertiesSet();
		connections.start();
		StringRedisTemplate redis = new StringRedisTemplate(connections);
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		QuotaService quota = new QuotaService(redis, QuotaProperties.defaults(), Clock.systemUTC(), meters,
				new QuotaBackendCircuit(3, Duration.ofSeconds(1), Clock.systemUTC(), meters));
		String id = "bench-" + UUID.randomUUID().toString().substring(0, 8);
		// Limits high enough never to refuse, so every check does the full admission
		// write; checks rotate over 16
		// tenants so that none passes the largest allowed requests-per-minute limit
		// during the run.
		Tenant[] tenants = new Tenant[16];
		for (int i = 0; i < tenants.length; i++) {
			tenants[i] = new Tenant(id + "-" + i, "Benchmark", EnumSet.allOf(Tier.class), Tier.P1, 1,
					new Limits(Limits.MAX_REQUESTS_PER_MINUTE, Limits.MAX_TOKENS_PER_MINUTE, Limits.MAX_CONCURRENT,
							Limits.MAX_MONTHLY_TOKEN_BUDGET));
		}
		try {
			// Warm up the JIT and the connection; then measure admission alone (the
			// permit ends outside the timing).
			run(quota, tenants, Math.min(20_000, checks), new long[Math.min(20_000, checks)]);
			long[] nanos = new long[checks];
			long started = System.nanoTime();
			run(quota, tenants, checks, nanos);
			double seconds = (System.nanoTime() - started) / 1e9;
			Arrays.sort(nanos);
			System.out.printf("quota admission checks: %d on one connection, one thread%n", checks);
			System.out.printf("p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us%n", nanos[checks / 2] / 1e3,
					nanos[(int) (checks * 0.99)] / 1e3, nanos[(int) (checks * 0.999)] / 1e3, nanos[checks - 1] / 1e3);
			System.out.printf("%.0f admission checks/s (%.0f checks+reconciliations/s)%n", checks / sumSeconds(nanos),
					checks / seconds);
		}
		finally {
			for (Tenant t : tenants) {
				redis.delete(redis.keys("tg:quota:{" + t.id() + "}:*"));
			}
			quota.close();
			connections.destroy();
		}
	}

	private static void run(QuotaService quota, Tenant[] tenants, int checks, long[] nanos) {
		for (int i = 0; i < checks; i++) {
			Tenant tenant = tenants[i % tenants.length];
			long start = System.nanoTime();
			QuotaPermit permit = quota.admit(tenant, Tier.P1, "bench-model", 100, 100L);
			nanos[i] = System.nanoTime() - start;
			permit.complete(100, 50);
		}
	}

	private static double sumSeconds(long[] nanos) {
		long total = 0;
		for (long n : nanos) {
			total += n;
		}
		return total / 1e9;
	}

}
