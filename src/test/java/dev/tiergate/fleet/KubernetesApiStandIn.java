package dev.tiergate.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubernetes.client.openapi.ApiClient;
import okhttp3.OkHttpClient;

/**
 * An in-process stand-in for the Kubernetes API server that the official client
 * ({@code client-java}) can use, CRUD and informers included.
 * <p>
 * It is fabric8's mock server in CRUD mode behind a small HTTP front of our own
 * ({@link WatchingFront}). The front forwards ordinary requests to the mock unchanged and
 * turns the official client's HTTP watches ({@code ?watch=true}, newline-delimited JSON
 * events) into the WebSocket watches the mock serves, so informers see events.
 * <p>
 * What it does and does not do (fabric8 8.0.0, measured):
 * <ul>
 * <li>objects whose {@code apiVersion} or {@code kind} is null are rejected; the official
 * models leave them null, so set them (as {@link FleetObjects} does);</li>
 * <li>{@code status} is kept as given on create (a real API server drops it and needs a
 * write to {@code /status}); writes to {@code /status} (replace, JSON patch, merge patch)
 * change only the status, as on a real server, but writes to the object itself change its
 * status too (a real server ignores status there);</li>
 * <li>JSON patch and JSON merge patch are served, but a merge patch appends to arrays
 * instead of replacing them (RFC 7386 replaces them): change arrays, such as pod
 * conditions, with a JSON patch or a replace; maps (labels, annotations) merge correctly.
 * Strategic-merge and apply patches get 415;</li>
 * <li>PATCH answers 202 rather than 200, and uids are counters
 * ({@code 00000000-...-000000000001});</li>
 * <li>equality label selectors filter; set-based ones ({@code in}, {@code notin},
 * {@code !key}) are silently ignored, so lists and watches then return everything;</li>
 * <li>a watch starts with every matching object as {@code ADDED}, whatever
 * {@code resourceVersion} it asks from; the front drops those whose resource version is
 * not newer than the one asked from, so an informer sees no spurious updates when its
 * watch (re)opens, and sees what was added or changed between its list and its watch.
 * What was deleted in that gap is not seen: after an informer has synced, wait for
 * {@link #openWatches()} before deleting something it must see go;</li>
 * <li>a watch stream whose client has gone is noticed at its next event, or at the latest
 * when the watch's {@code timeoutSeconds} ends or the stand-in closes.</li>
 * </ul>
 * Use it as {@code try (var api = new KubernetesApiStandIn().start()) { ... }}.
 */
public final class KubernetesApiStandIn implements AutoCloseable {

	private final KubernetesMockServer mock = new KubernetesMockServer(new Context(), new MockWebServer(),
			new HashMap<>(), new KubernetesCrudDispatcher(), false);

	private final List<ApiClient> clients = new CopyOnWriteArrayList<>();

	private WatchingFront front;

	private boolean closed;

	/**
	 * Starts the mock and the front, each on an ephemeral port of 127.0.0.1.
	 * @return this stand-in, started
	 * @throws IllegalStateException if already started
	 * @throws UncheckedIOException if the front cannot bind its port
	 */
	public KubernetesApiStandIn start() {
		if (this.front != null) {
			throw new IllegalStateException("Already started");
		}
		this.mock.start(InetAddress.getLoopbackAddress(), 0);
		try {
			this.front = WatchingFront.start(URI.create("http://127.0.0.1:" + this.mock.getPort()));
		}
		catch (IOException ex) {
			this.mock.shutdown();
			throw new UncheckedIOException(ex);
		}
		return this;
	}

	/**
	 * The base URL the official client uses.
	 * @return {@code http://127.0.0.1:PORT}, the front's address
	 */
	public String url() {
		return started().url();
	}

	/**
	 * A new official client pointed at {@link #url()}: no authentication, and an OkHttp
	 * read timeout of zero so that informer watches stay open while no event arrives. The
	 * stand-in releases its connections and threads on {@link #close()}.
	 * @return a new {@link ApiClient}
	 */
	public ApiClient apiClient() {
		ApiClient client = new ApiClient().setBasePath(url());
		client.setHttpClient(client.getHttpClient().newBuilder().readTimeout(Duration.ZERO).build());
		this.clients.add(client);
		return client;
	}

	/**
	 * How many watches are open right now through the front. An informer's watch counts
	 * once it is open against the mock, that is once events written from then on will
	 * reach it.
	 * @return the number of open watch streams
	 */
	public int openWatches() {
		return (this.front != null) ? this.front.openWatches() : 0;
	}

	/**
	 * Stops everything: ends every watch stream, stops the front and the mock, and
	 * releases the connections and threads of the clients made by {@link #apiClient()}.
	 * Stop informers first, or they will retry against a closed port.
	 */
	@Override
	public void close() {
		if (this.front == null || this.closed) {
			return;
		}
		this.closed = true;
		this.front.close();
		shutDownMock();
		for (ApiClient client : this.clients) {
			OkHttpClient http = client.getHttpClient();
			http.dispatcher().cancelAll();
			http.dispatcher().executorService().shutdown();
			http.connectionPool().evictAll();
		}
		this.clients.clear();
	}

	/**
	 * Stops the mock. Its Vert.x instance may not close within the mock's own time limit
	 * on a loaded machine ("Unable to close Vertx"); the port is released by then, so a
	 * slow close is retried once and then logged rather than failing the test that is
	 * only tearing down.
	 */
	private void shutDownMock() {
		for (int attempt = 1;; attempt++) {
			try {
				this.mock.shutdown();
				return;
			}
			catch (IllegalStateException ex) {
				if (attempt == 2) {
					System.getLogger(KubernetesApiStandIn.class.getName())
						.log(System.Logger.Level.WARNING,
								"The Kubernetes mock did not stop in time: " + ex.getMessage());
					return;
				}
			}
		}
	}

	private WatchingFront started() {
		if (this.front == null) {
			throw new IllegalStateException("Not started: call start() first");
		}
		return this.front;
	}

}
