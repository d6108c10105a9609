package dev.tiergate;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;

/**
 * Gives every test application context a Tiergate namespace of its own
 * ({@code tiergate.cluster.own-namespace}, unless the test sets it), so that the cached
 * contexts of one JVM that share an API stand-in neither elect one leader among
 * themselves (the others would answer cluster writes with 503) nor share one tier
 * ConfigMap (a context's {@code tiergate.tiers.*} would only seed it once). Tests of
 * several replicas set one namespace for all of them.
 */
class OwnNamespacePerContext implements ContextCustomizerFactory {

	@Override
	public ContextCustomizer createContextCustomizer(Class<?> testClass,
			List<ContextConfigurationAttributes> configAttributes) {
		return new Customizer();
	}

	private static final class Customizer implements ContextCustomizer {

		@Override
		public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
			context.getEnvironment()
				.getPropertySources()
				.addLast(new MapPropertySource("tiergateOwnNamespacePerContext", Map
					.of("tiergate.cluster.own-namespace", "tg-test-" + UUID.randomUUID().toString().substring(0, 8))));
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof Customizer;
		}

		@Override
		public int hashCode() {
			return Customizer.class.hashCode();
		}

	}

}
