package dev.tiergate.metering;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Scrapes DCGM exporters into {@link DcgmReadings}, off the request path: one round reads
 * every target in parallel (virtual threads), each bounded by a timeout that covers the
 * body too (the JDK client's request timeout stops at the headers), and returns when all
 * have answered or timed out. Targets that disappeared are forgotten.
 */
public class DcgmScraper {

	private final Supplier<Map<String, URI>> targets;

	private final DcgmReadings readings;

	private final Clock clock;

	private final Duration timeout;

	private final HttpClient http;

	private final Set<String> known = ConcurrentHashMap.newKeySet();

	/**
	 * A scraper.
	 * @param targets each exporter's {@code /metrics} address, by exporter (pod key)
	 * @param readings where figures go
	 * @param clock when they were read
	 * @param timeout longest one scrape may take, body included
	 */
	public DcgmScraper(Supplier<Map<String, URI>> targets, DcgmReadings readings, Clock clock, Duration timeout) {
		this.targets = targets;
		this.readings = readings;
		this.clock = clock;
		this.timeout = timeout;
		this.http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(timeout)
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
	}

	/**
	 * One round over every target.
	 */
	public void runOnce() {
		Map<String, URI> now = this.targets.get();
		this.known.stream().filter((exporter) -> !now.containsKey(exporter)).toList().forEach((gone) -> {
			this.known.remove(gone);
			this.readings.removed(gone);
		});
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			now.forEach((exporter, uri) -> {
				this.known.add(exporter);
				threads.execute(() -> scrape(exporter, uri));
			});
		}
	}

	private void scrape(String exporter, URI uri) {
		HttpRequest request = HttpRequest.newBuilder(uri).timeout(this.timeout).GET().build();
		CompletableFuture<HttpResponse<String>> call = this.http.sendAsync(request,
				HttpResponse.BodyHandlers.ofString());
		try {
			HttpResponse<String> response = call.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
			if (response.statusCode() != 200) {
				this.readings.failed(exporter, "HTTP " + response.statusCode());
				return;
			}
			this.readings.scraped(exporter, response.body(), this.clock.instant());
		}
		catch (TimeoutException ex) {
			call.cancel(true);
			this.readings.failed(exporter, "no answer within " + this.timeout);
		}
		catch (InterruptedException ex) {
			call.cancel(true);
			Thread.currentThread().interrupt();
		}
		catch (ExecutionException ex) {
			Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
			String message = cause.getMessage();
			this.readings.failed(exporter,
					cause.getClass().getSimpleName() + ((message != null) ? ": " + message : ""));
		}
	}

}
