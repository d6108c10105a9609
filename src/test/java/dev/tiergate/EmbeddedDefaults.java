package dev.tiergate;

import java.time.Duration;
import java.util.EnumSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataAccessException;
import org.springframework.security.crypto.password.PasswordEncoder;

import dev.tiergate.tier.Tier;
import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;
import dev.tiergate.security.OperatorStore;
import dev.tiergate.security.Role;

/**
 * What the embedded default seeds, and only the embedded default: operators
 * {@code admin}/{@code admin} and {@code viewer}/{@code viewer}, a CI token, and tenants
 * {@code acme} (P0-P2) and {@code batchco} (P1-P2) with well-known keys. Seeding is
 * idempotent.
 */
@TestConfiguration(proxyBeanMethods = false)
public class EmbeddedDefaults {

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedDefaults.class);

	/** The demo key of tenant {@code acme}. */
	public static final String ACME_KEY = "tg-acme-demo";

	/** The demo key of tenant {@code batchco}. */
	public static final String BATCHCO_KEY = "tg-batchco-demo";

	/** The demo CI token (operator role). */
	public static final String CI_TOKEN = "tgo-demo-ci";

	private static final Duration SEEDING_PATIENCE = Duration.ofSeconds(15);

	private static final Duration SEEDING_RETRY = Duration.ofMillis(250);

	private static void seed(TenantStore tenants, OperatorStore operators, PasswordEncoder encoder) {
		operators.save(new OperatorStore.Operator("admin", encoder.encode("admin"), Role.ADMIN));
		operators.save(new OperatorStore.Operator("viewer", encoder.encode("viewer"), Role.VIEWER));
		operators.addToken(CI_TOKEN, "demo-ci", Role.OPERATOR);
		tenants.save(new Tenant("acme", "Acme Corp", EnumSet.allOf(Tier.class), Tier.P1, 1));
		tenants.addKey("acme", ACME_KEY);
		tenants.save(new Tenant("batchco", "BatchCo", EnumSet.of(Tier.P1, Tier.P2), Tier.P2, 1));
		tenants.addKey("batchco", BATCHCO_KEY);
	}

	/**
	 * Seeds, and seeds again every 250 ms while Redis refuses, for up to 15 seconds. A
	 * plain loop rather than Awaitility: the benchmarks run the embedded default on the
	 * image's runtime class path, which has no test libraries.
	 */
	private static void seedRetrying(TenantStore tenants, OperatorStore operators, PasswordEncoder encoder)
			throws InterruptedException {
		long deadline = System.nanoTime() + SEEDING_PATIENCE.toNanos();
		while (true) {
			try {
				seed(tenants, operators, encoder);
				return;
			}
			catch (DataAccessException ex) {
				if (System.nanoTime() - deadline >= 0) {
					throw new IllegalStateException("seeding the embedded defaults into Redis failed for "
							+ SEEDING_PATIENCE.toSeconds() + " s", ex);
				}
				Thread.sleep(SEEDING_RETRY.toMillis());
			}
		}
	}

	@Bean
	ApplicationRunner embeddedDefaultsSeeder(TenantStore tenants, OperatorStore operators, PasswordEncoder encoder,
			WebServerApplicationContext context, Environment environment) {
		return (args) -> {
			// Seeding is idempotent, so a Redis connection that drops while the
			// application starts (the quota client rejects commands until it has
			// reconnected) is ridden out by seeding again, for up to 15 seconds.
			seedRetrying(tenants, operators, encoder);
			int port = context.getWebServer().getPort();
			String management = environment.getProperty("local.management.port", "8081");
			logger.info(
					"""

							Tiergate embedded default is up, with a simulated GPU fleet (2 nodes, 8 x A100 shared by MPS x4,
							20 llama-3.1-8b-instruct pods, 4 qwen2.5-32b-instruct pods).
							  Dashboard       http://localhost:{}/          login admin / admin (admin), viewer / viewer
							  OpenAI API      http://localhost:{}/v1        keys tg-acme-demo (acme, P0-P2), tg-batchco-demo (batchco, P1-P2)
							  REST API        http://localhost:{}/api/v1    HTTP Basic admin / admin, or Bearer {}
							  Metrics         http://localhost:{}/actuator/prometheus
							  Redis           {}
							""",
					port, port, port, CI_TOKEN, management,
					EmbeddedRedis.banner(environment.getProperty("spring.data.redis.host", "127.0.0.1"),
							environment.getProperty("spring.data.redis.port", "6379")));
		};
	}

}
