package dev.tiergate.proxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link DetachedStream} on the servlet container the application runs on
 * (embedded Tomcat, its request objects discarded when recycled): a stream served on a
 * thread of its own is settled exactly once, after the filter's return and the stream's
 * end in whichever order they come, while its request is still its own (not yet completed
 * and recycled), also when its client leaves mid-stream and the container handles the
 * failed write on a thread of its own; a failure before the answer is answered.
 */
class DetachedStreamTests {

	private static final int EVENTS = 20;

	private BareTomcat tomcat;

	/** Settlements per request id. */
	private final Map<String, AtomicInteger> settlements = new ConcurrentHashMap<>();

	/** What went wrong on the server's side, by request. */
	private final Queue<String> faults = new ConcurrentLinkedQueue<>();

	/** Requests whose async cycle the container completed. */
	private final Map<String, Boolean> completed = new ConcurrentHashMap<>();

	private final AtomicInteger closed = new AtomicInteger();

	@BeforeEach
	void start() throws Exception {
		this.tomcat = new BareTomcat("/stream", new HttpServlet() {

			@Override
			protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
				serve(request, response);
			}

		});
	}

	@AfterEach
	void stop() throws Exception {
		this.tomcat.close();
	}

	/**
	 * What Completions and QuotaPermits do around a detached stream: the headers say when
	 * the filter returns ({@code X-Filter-Ms} after the hand-off), how long each event
	 * takes and whether the serving fails before answering.
	 */
	private void serve(HttpServletRequest request, HttpServletResponse response) throws IOException {
		String id = request.getHeader("X-Id");
		long filterMillis = Long.parseLong(request.getHeader("X-Filter-Ms"));
		long eventMillis = Long.parseLong(request.getHeader("X-Event-Ms"));
		boolean fails = request.getHeader("X-Fail") != null;
		request.getInputStream().readAllBytes();
		request.setAttribute("id", id);
		ClientConnection client = ClientConnection.watch(request);
		assertThat(client.async()).isTrue();
		request.getAsyncContext().addListener(new AsyncListener() {

			@Override
			public void onComplete(AsyncEvent event) {
				DetachedStreamTests.this.completed.put(id, true);
			}

			@Override
			public void onTimeout(AsyncEvent event) {
			}

			@Override
			public void onError(AsyncEvent event) {
			}

			@Override
			public void onStartAsync(AsyncEvent event) {
			}

		});
		DetachedStream.start(request, client, () -> {
			if (fails) {
				throw new OpenAiException(503, "server_error", "no_capacity", "No capacity.");
			}
			client.answering();
			response.setContentType("text/event-stream");
			OutputStream out = response.getOutputStream();
			for (int i = 0; i < EVENTS; i++) {
				out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.US_ASCII));
				out.flush();
				Thread.sleep(eventMillis);
			}
		}, (failure) -> {
			response.setStatus(((OpenAiException) failure).status());
			response.getOutputStream().write("refused".getBytes(StandardCharsets.US_ASCII));
		}, this.closed::incrementAndGet);
		sleep(filterMillis);
		DetachedStream.of(request).settleWhenServed(() -> {
			// The request must still be this one: not completed, not recycled.
			Object seen = request.getAttribute("id");
			if (!id.equals(seen) || this.completed.containsKey(id)) {
				this.faults.add(id + " settled on a finished request (saw " + seen + ")");
			}
			this.settlements.computeIfAbsent(id, (key) -> new AtomicInteger()).incrementAndGet();
		});
	}

	/**
	 * One client: reads {@code leaveAfter} events and leaves, or all of them; answers
	 * what it read.
	 */
	private Result call(String id, long filterMillis, long eventMillis, int leaveAfter, boolean fails)
			throws IOException {
		try (Socket socket = new Socket("127.0.0.1", this.tomcat.port())) {
			socket.setSoTimeout(20_000);
			OutputStream out = socket.getOutputStream();
			out.write(("POST /stream HTTP/1.1\r\nHost: localhost\r\nX-Id: " + id + "\r\nX-Filter-Ms: " + filterMillis
					+ "\r\nX-Event-Ms: " + eventMillis + ((fails) ? "\r\nX-Fail: yes" : "")
					+ "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
				.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			BufferedReader reader = new BufferedReader(
					new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
			String status = reader.readLine();
			int events = 0;
			boolean ended = false;
			String line;
			while ((line = reader.readLine()) != null) {
				if (line.startsWith("data: ")) {
					events++;
					if (events == leaveAfter) {
						socket.setSoLinger(true, 0);
						return new Result(status, events, false);
					}
				}
				ended |= line.equals("0");
			}
			return new Result(status, events, ended);
		}
	}

	record Result(String status, int events, boolean ended) {
	}

	@Test
	void aStreamIsSettledOnceWhileItsRequestIsItsOwnWhetherTheFilterOrTheStreamEndsFirst() throws Exception {
		// The filter returns long after the stream's end, and long before it.
		Result early = call("stream-ends-first", 300, 0, -1, false);
		Result late = call("filter-returns-first", 0, 10, -1, false);
		for (Result result : List.of(early, late)) {
			assertThat(result.status()).startsWith("HTTP/1.1 200");
			assertThat(result.events()).isEqualTo(EVENTS);
			assertThat(result.ended()).as("the chunked answer's end").isTrue();
		}
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			assertThat(this.settlements).containsOnlyKeys("stream-ends-first", "filter-returns-first");
			assertThat(this.settlements.values()).allSatisfy((count) -> assertThat(count).hasValue(1));
			assertThat(this.completed).containsOnlyKeys("stream-ends-first", "filter-returns-first");
		});
		assertThat(this.faults).isEmpty();
		assertThat(this.closed).hasValue(2);
	}

	@Test
	void aFailureBeforeTheAnswerIsAnsweredAndSettled() throws Exception {
		Result refused = call("refused", 50, 0, -1, true);
		assertThat(refused.status()).startsWith("HTTP/1.1 503");
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(this.settlements).containsKey("refused"));
		assertThat(this.settlements.get("refused")).hasValue(1);
		assertThat(this.faults).isEmpty();
	}

	@Test
	void twoHundredStreamsWithClientsLeavingMidStreamAreEachSettledOnceBeforeTheirRequestIsRecycled() throws Exception {
		Random random = new Random(20261202);
		int requests = 200;
		List<Future<Result>> results = new ArrayList<>();
		List<Integer> leaving = new ArrayList<>();
		try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < requests; i++) {
				String id = "r" + i;
				long filterMillis = random.nextInt(4) == 0 ? random.nextInt(60) : 0;
				long eventMillis = random.nextInt(4);
				int leaveAfter = random.nextInt(3) == 0 ? 1 + random.nextInt(EVENTS - 1) : -1;
				if (leaveAfter > 0) {
					leaving.add(i);
				}
				results.add(clients.submit(() -> call(id, filterMillis, eventMillis, leaveAfter, false)));
			}
			for (int i = 0; i < requests; i++) {
				Result result = results.get(i).get(30, TimeUnit.SECONDS);
				assertThat(result.status()).startsWith("HTTP/1.1 200");
				if (!leaving.contains(i)) {
					assertThat(result.events()).isEqualTo(EVENTS);
					assertThat(result.ended()).isTrue();
				}
			}
		}
		assertThat(leaving).as("clients that left").hasSizeGreaterThan(40);
		await().atMost(Duration.ofSeconds(DetachedStream.ERROR_WAIT_SECONDS / 3)).untilAsserted(() -> {
			assertThat(this.settlements).hasSize(requests);
			assertThat(this.completed).hasSize(requests);
		});
		assertThat(this.settlements.values()).allSatisfy((count) -> assertThat(count).hasValue(1));
		assertThat(this.faults).isEmpty();
		assertThat(this.closed).hasValue(requests);
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
