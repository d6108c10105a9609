package dev.tiergate.routing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Routing's background work, off the request path, on virtual threads: every
 * {@code tiergate.routing.scrape.interval} it scrapes each routable endpoint's
 * {@code /metrics} and probes each ejected endpoint whose backoff has passed, all in
 * parallel, each bounded by {@code tiergate.routing.scrape.timeout}. Times come from the
 * injected clock; {@link #runOnce()} lets tests drive it.
 */
public class RoutingMaintenance implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(RoutingMaintenance.class);

	private final EndpointRegistry registry;

	private final EndpointHealth health;

	private final RoutingProperties properties;

	private final Clock clock;

	private final HttpClient http;

	private static final JsonMapper json = JsonMapper.builder().build();

	private final RoundLoop rounds;

	public RoutingMaintenance(EndpointRegistry registry, EndpointHealth health, RoutingProperties properties,
			Clock clock) {
		this.registry = registry;
		this.health = health;
		this.properties = properties;
		this.clock = clock;
		this.http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(properties.scrape().timeout())
			.followRedirects(HttpClient.Redirect.NEVER)
			.executor(Executors.newVirtualThreadPerTaskExecutor())
			.build();
		this.rounds = new RoundLoop("routing-maintenance", properties.scrape().interval(), this::runOnce, logger);
	}

	/**
	 * One round: scrapes and probes, returning when all have answered or timed out.
	 */
	public void runOnce() {
		List<Runnable> tasks = new ArrayList<>();
		for (Endpoint endpoint : this.registry.endpoints()) {
			if (endpoint.podRoutable() && endpoint.health() == Endpoint.Health.HEALTHY) {
				tasks.add(() -> scrape(endpoint));
			}
		}
		for (Endpoint endpoint : this.health.dueForProbe()) {
			tasks.add(() -> probe(endpoint));
		}
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			tasks.forEach(threads::execute);
		}
	}

	private void scrape(Endpoint endpoint) {
		try {
			HttpResponse<String> response = get(endpoint.baseUri().resolve("/metrics"));
			if (response.statusCode() != 200) {
				endpoint.scrapeFailed("HTTP " + response.statusCode());
				return;
			}
			endpoint.scraped(VllmMetrics.parse(response.body(), EndpointHealth.nanos(this.clock), endpoint.inFlight()));
			if (endpoint.maxModelLen() == 0) {
				learnContextLength(endpoint);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Exception ex) {
			endpoint.scrapeFailed(describe(ex));
		}
	}

	/**
	 * Reads the engine's context length from its {@code GET /v1/models} (vLLM reports
	 * {@code max_model_len} for each model), once per endpoint.
	 */
	private void learnContextLength(Endpoint endpoint) throws Exception {
		HttpResponse<String> response = get(endpoint.baseUri().resolve("/v1/models"));
		if (response.statusCode() != 200) {
			return;
		}
		try {
			for (JsonNode model : json.readTree(response.body()).path("data")) {
				JsonNode length = model.path("max_model_len");
				if (endpoint.model().equals(model.path("id").asString(null)) && length.isIntegralNumber()
						&& length.canConvertToInt() && length.intValue() > 0) {
					endpoint.maxModelLen(length.intValue());
				}
			}
		}
		catch (JacksonException ex) {
			logger.debug("Endpoint {} answered GET /v1/models with no JSON", endpoint.key());
		}
	}

	private void probe(Endpoint endpoint) {
		try {
			HttpResponse<String> response = get(endpoint.baseUri().resolve(this.properties.health().probePath()));
			boolean ok = response.statusCode() >= 200 && response.statusCode() < 300;
			this.health.probed(endpoint, ok, ok ? null : "HTTP " + response.statusCode());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Exception ex) {
			this.health.probed(endpoint, false, describe(ex));
		}
	}

	private HttpResponse<String> get(URI uri) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(uri).timeout(this.properties.scrape().timeout()).GET().build();
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private static String describe(Exception ex) {
		String message = ex.getMessage();
		return ex.getClass().getSimpleName() + ((message != null) ? ": " + message : "");
	}

	@Override
	public void start() {
		this.rounds.start();
	}

	@Override
	public void stop() {
		this.rounds.stop();
	}

	@Override
	public boolean isRunning() {
		return this.rounds.isRunning();
	}

}
