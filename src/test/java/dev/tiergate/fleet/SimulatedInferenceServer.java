package dev.tiergate.fleet;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.InferenceEngine;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One simulated OpenAI-compatible inference server, as vLLM runs it in one inference pod,
 * listening on 127.0.0.1.
 * <p>
 * It serves {@code POST /v1/embeddings} (vectors of the model's hidden size after a
 * prefill, nothing decoded), {@code POST /v1/chat/completions} and
 * {@code POST /v1/completions} (JSON or, with {@code "stream": true}, server-sent
 * events), {@code GET /v1/models}, {@code GET /metrics} (vLLM's gauge and counter names)
 * and {@code GET /health}. Its timing and scheduling are the {@link InferenceEngine}'s,
 * the same engine model the simulator replays traces with: at most {@code slots} requests
 * run at once, the rest wait; a running request takes the prefill time, then one decode
 * step per token, from the {@link GpuServiceTimeModel} of the pod's slice, with steps as
 * slow as the batch running at the time; the KV cache bounds admission. Under
 * {@link InferenceEngine.Policy#PRIORITY} (the default, as vLLM runs with
 * {@code --scheduling-policy priority}) the request's {@code priority} field (an integer,
 * lower first, 0 when absent) orders the waiting queue and a more urgent request preempts
 * a running less urgent one, which is recomputed later. Time is real (scaled by the
 * model's time scale); the work is simulated by parking the request's virtual thread
 * until its next token is due. A streaming response sends its headers together with its
 * first token, so until then a failure leaves the client with no byte at all. A client
 * that goes away is noticed at the next write, which ends the request and frees its slot.
 * <p>
 * Prompt tokens are estimated as characters / 4 (at least 1). A request generates
 * {@code max_completion_tokens} or {@code max_tokens} tokens when given (finish reason
 * {@code length}), otherwise a pseudo-random 16 to 128 tokens seeded by the server's seed
 * and the prompt (finish reason {@code stop}). Other unknown fields are accepted and
 * ignored.
 * <p>
 * Chaos controls let failure tests break it on purpose:
 * {@link #failNextRequestsBeforeFirstByte(int)},
 * {@link #answerNextRequestsWithServerError(int)}, {@link #dieMidStream()} and
 * {@link #stop()}. All methods are thread-safe.
 */
public final class SimulatedInferenceServer implements AutoCloseable {

	/**
	 * How many tokens a request generates before {@link #dieMidStream()} kills it.
	 */
	public static final int TOKENS_BEFORE_DYING = 3;

	private static final String OWNER = "tiergate-sim";

	private static final List<String> FILLER_WORDS = List.of("the", "shared", "GPU", "serves", "every", "tier", "in",
			"turn", "while", "tokens", "stream", "back", "to", "patient", "clients", "and", "slots", "free", "up",
			"again");

	private static final byte[] DONE_EVENT = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

	private final String servedModel;

	private final int embeddingSize;

	private final int maxModelLen;

	private final int slots;

	private final long seed;

	private final Clock clock;

	private final int requestedPort;

	private final JsonMapper json = JsonMapper.builder().build();

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition changed = this.lock.newCondition();

	private final InferenceEngine engine;

	private final List<Sequence> active = new ArrayList<>();

	/**
	 * When the engine computed (at least one sequence running), for the DCGM stand-in.
	 */
	private final BusyLog busy = new BusyLog();

	/** Sequences running in the engine (prefill or decode), kept by the listener. */
	private int computing;

	private final List<BusyLog.Transitions> busyListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

	private long completedCount;

	private long abortedCount;

	private final java.util.Map<Integer, Long> prioritiesSeen = new java.util.TreeMap<>();

	private long promptTokensTotal;

	private long generationTokensTotal;

	private final AtomicLong requestCount = new AtomicLong();

	private int connectionFailuresToInject;

	private int serverErrorsToInject;

	private int stallsToInject;

	private final java.util.concurrent.CountDownLatch stallsReleased = new java.util.concurrent.CountDownLatch(1);

	private final AtomicLong stalled = new AtomicLong();

	private volatile boolean stopped;

	/** The most requests admitted at once since start or the last reset. */
	private int peakActive;

	private HttpServer server;

	private ExecutorService executor;

	private long createdEpochSecond;

	private SimulatedInferenceServer(Builder builder) {
		this.servedModel = builder.servedModel;
		this.embeddingSize = embeddingSizeOf(builder.servedModel);
		this.slots = builder.slots;
		this.seed = builder.seed;
		this.clock = builder.clock;
		this.requestedPort = builder.port;
		this.maxModelLen = builder.maxModelLen;
		this.engine = new InferenceEngine(builder.serviceTime, builder.slots, builder.policy,
				new InferenceEngine.Listener() {
					@Override
					public void admitted(InferenceEngine.Sequence sequence, long at) {
						computingChanged(+1, at);
						SimulatedInferenceServer.this.changed.signalAll();
					}

					@Override
					public void finished(InferenceEngine.Sequence sequence, long at) {
						computingChanged(-1, at);
						SimulatedInferenceServer.this.changed.signalAll();
					}

					@Override
					public void preempted(InferenceEngine.Sequence sequence, long at) {
						computingChanged(-1, at);
						SimulatedInferenceServer.this.changed.signalAll();
					}
				});
	}

	/**
	 * Starts building a server.
	 * @param servedModel the model name clients must ask for
	 * @param serviceTime the service-time model of the pod's slice
	 * @return a builder with 8 slots, seed 42, the system clock and an ephemeral port
	 */
	public static Builder builder(String servedModel, GpuServiceTimeModel serviceTime) {
		return new Builder(servedModel, serviceTime);
	}

	/**
	 * Starts listening.
	 * @return this server
	 * @throws IOException if the port cannot be bound
	 * @throws IllegalStateException if the server was started before
	 */
	public SimulatedInferenceServer start() throws IOException {
		this.lock.lock();
		try {
			if (this.server != null) {
				throw new IllegalStateException("already started");
			}
			this.createdEpochSecond = this.clock.instant().getEpochSecond();
			HttpServer http = HttpServer
				.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.requestedPort), 0);
			this.executor = Executors.newVirtualThreadPerTaskExecutor();
			http.setExecutor(this.executor);
			http.createContext("/", this::handle);
			http.start();
			this.server = http;
			return this;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * The port the server listens on.
	 * @return the bound port
	 * @throws IllegalStateException if the server has not been started
	 */
	public int port() {
		HttpServer http = this.server;
		if (http == null) {
			throw new IllegalStateException("not started");
		}
		return http.getAddress().getPort();
	}

	/**
	 * The server's base URI, without a trailing slash.
	 * @return for example {@code http://127.0.0.1:40123}
	 */
	public URI baseUri() {
		return URI.create("http://127.0.0.1:" + port());
	}

	/**
	 * The model name clients must ask for.
	 * @return the served model
	 */
	public String servedModel() {
		return this.servedModel;
	}

	/**
	 * How many requests may run at once.
	 * @return the slot count
	 */
	public int slots() {
		return this.slots;
	}

	/**
	 * The requests holding a slot now (prefilling or decoding).
	 * @return the running count
	 */
	public int running() {
		return read(() -> {
			this.engine.advanceTo(System.nanoTime());
			return this.engine.running();
		});
	}

	/**
	 * The requests waiting for a slot now.
	 * @return the waiting count
	 */
	public int waiting() {
		return read(() -> {
			this.engine.advanceTo(System.nanoTime());
			return this.engine.waiting();
		});
	}

	/**
	 * The most completion requests this server had admitted at once (running or waiting
	 * in its engine), since it started or since {@link #resetPeak()}: what a client fleet
	 * sent it concurrently, counted here.
	 * @return the peak
	 */
	public int peakActive() {
		return read(() -> this.peakActive);
	}

	/**
	 * Starts counting {@link #peakActive()} again from the requests admitted now.
	 */
	public void resetPeak() {
		update(() -> this.peakActive = this.active.size());
	}

	/**
	 * The requests that got a slot and were answered in full.
	 * @return the completed count
	 */
	public long completed() {
		return read(() -> this.completedCount);
	}

	/**
	 * The requests that got a slot but ended early: the client went away,
	 * {@link #dieMidStream()} or {@link #stop()}.
	 * @return the aborted count
	 */
	public long aborted() {
		return read(() -> this.abortedCount);
	}

	/**
	 * How many requests arrived with each {@code priority} (0 when a request had none).
	 * @return counts by priority
	 */
	public java.util.Map<Integer, Long> priorities() {
		return read(() -> java.util.Map.copyOf(this.prioritiesSeen));
	}

	/**
	 * Makes the next {@code requests} completion requests fail before the server sends
	 * any byte: the connection is closed without a response. Other endpoints are not
	 * affected.
	 * @param requests how many requests to fail, zero or more
	 */
	public void failNextRequestsBeforeFirstByte(int requests) {
		requireNotNegative(requests);
		update(() -> this.connectionFailuresToInject = requests);
	}

	/**
	 * Makes the next {@code requests} completion requests fail at once with an
	 * OpenAI-shaped 500 response. Other endpoints are not affected.
	 * @param requests how many requests to fail, zero or more
	 */
	public void answerNextRequestsWithServerError(int requests) {
		requireNotNegative(requests);
		update(() -> this.serverErrorsToInject = requests);
	}

	/**
	 * Makes the next {@code requests} completion requests stall, as a hung engine does:
	 * each answers 200 with its headers (and, when streaming, a first event), then sends
	 * nothing more until the server is stopped, and then drops the connection. Other
	 * endpoints are not affected.
	 * @param requests how many requests to stall, zero or more
	 */
	public void stallNextRequests(int requests) {
		requireNotNegative(requests);
		update(() -> this.stallsToInject = requests);
	}

	/**
	 * The requests that stalled so far ({@link #stallNextRequests(int)}).
	 * @return the count
	 */
	public long stalled() {
		return this.stalled.get();
	}

	private void stall(HttpExchange exchange, boolean stream) throws IOException {
		this.stalled.incrementAndGet();
		exchange.getResponseHeaders().set("Content-Type", stream ? "text/event-stream" : "application/json");
		exchange.sendResponseHeaders(200, 0);
		OutputStream out = exchange.getResponseBody();
		if (stream) {
			out.write(
					"data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
						.getBytes(java.nio.charset.StandardCharsets.UTF_8));
		}
		out.flush();
		try {
			this.stallsReleased.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		throw new AbortConnection("stalled request dropped");
	}

	/**
	 * Kills every running request, as a crashing engine would: each one generates (and,
	 * if streaming, sends) at least {@value #TOKENS_BEFORE_DYING} tokens, then its
	 * connection is closed abruptly, without the end of the chunked body or
	 * {@code [DONE]}. Waiting and later requests are not affected.
	 */
	public void dieMidStream() {
		update(() -> this.active.forEach((sequence) -> {
			InferenceEngine.State state = sequence.engine.state();
			if (state == InferenceEngine.State.PREFILL || state == InferenceEngine.State.DECODE) {
				sequence.doomed = true;
			}
		}));
	}

	/**
	 * Closes the listener, so that new connections are refused, and drops every open
	 * connection; running and waiting requests end at once. The server cannot be started
	 * again.
	 */
	public void stop() {
		HttpServer http;
		this.lock.lock();
		try {
			this.stopped = true;
			this.stallsReleased.countDown();
			http = this.server;
			this.changed.signalAll();
		}
		finally {
			this.lock.unlock();
		}
		if (http != null) {
			http.stop(0);
		}
	}

	/**
	 * Stops the server and waits briefly for its request threads to end.
	 */
	@Override
	public void close() {
		stop();
		ExecutorService threads = this.executor;
		if (threads != null) {
			threads.shutdownNow();
			try {
				threads.awaitTermination(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private void handle(HttpExchange exchange) throws IOException {
		try {
			String path = exchange.getRequestURI().getPath();
			String method = exchange.getRequestMethod();
			switch (path) {
				case "/v1/chat/completions" -> requirePost(exchange, method, Endpoint.CHAT);
				case "/v1/completions" -> requirePost(exchange, method, Endpoint.COMPLETIONS);
				case "/v1/embeddings" -> requirePost(exchange, method, Endpoint.EMBEDDINGS);
				case "/v1/models" -> requireGet(exchange, method, this::models);
				case "/metrics" -> requireGet(exchange, method, this::metrics);
				case "/health" -> requireGet(exchange, method, this::health);
				default -> sendError(exchange, 404, "Not found: " + path, "invalid_request_error", null);
			}
		}
		catch (RuntimeException ex) {
			if (exchange.getResponseCode() != -1) {
				throw new AbortConnection("failed after the response started");
			}
			sendError(exchange, 500, "The simulated server failed: " + ex.getClass().getSimpleName(), "server_error",
					null);
		}
	}

	private void requirePost(HttpExchange exchange, String method, Endpoint endpoint) throws IOException {
		if (!"POST".equals(method)) {
			sendError(exchange, 405, "Method " + method + " not allowed", "invalid_request_error", null);
			return;
		}
		complete(exchange, endpoint);
	}

	private void requireGet(HttpExchange exchange, String method, Handler handler) throws IOException {
		if (!"GET".equals(method)) {
			sendError(exchange, 405, "Method " + method + " not allowed", "invalid_request_error", null);
			return;
		}
		handler.handle(exchange);
	}

	private void complete(HttpExchange exchange, Endpoint endpoint) throws IOException {
		byte[] body = exchange.getRequestBody().readAllBytes();
		Chaos chaos = takeChaos();
		if (chaos == Chaos.CLOSE_CONNECTION) {
			throw new AbortConnection("injected failure before the first byte");
		}
		if (chaos == Chaos.SERVER_ERROR) {
			sendError(exchange, 500, "Injected server error", "server_error", null);
			return;
		}
		Job job;
		try {
			job = parse(endpoint, body);
		}
		catch (BadRequest ex) {
			sendError(exchange, ex.status, ex.getMessage(), "invalid_request_error", ex.code);
			return;
		}
		if (chaos == Chaos.STALL) {
			stall(exchange, job.stream());
			return;
		}
		Sequence sequence = admit(job);
		boolean finished = false;
		try {
			finished = (job.endpoint() == Endpoint.EMBEDDINGS) ? embed(exchange, sequence)
					: job.stream() ? stream(exchange, sequence) : answer(exchange, sequence);
		}
		finally {
			release(sequence, finished);
		}
	}

	private Job parse(Endpoint endpoint, byte[] body) throws BadRequest {
		JsonNode request;
		try {
			request = this.json.readTree(body);
		}
		catch (JacksonException ex) {
			throw new BadRequest(400, "We could not parse the JSON body of your request.", null);
		}
		if (request == null || !request.isObject()) {
			throw new BadRequest(400, "The request body must be a JSON object.", null);
		}
		JsonNode model = request.get("model");
		if (model == null || !model.isString()) {
			throw new BadRequest(400, "You must provide a model parameter.", null);
		}
		if (!this.servedModel.equals(model.stringValue())) {
			throw new BadRequest(404, "The model `" + model.stringValue() + "` does not exist.", "model_not_found");
		}
		if (endpoint == Endpoint.EMBEDDINGS) {
			return embeddingJob(request);
		}
		String prompt = (endpoint == Endpoint.CHAT) ? chatText(request) : completionText(request);
		int promptTokens = Math.max(1, prompt.length() / 4);
		Integer maxTokens = maxTokens(request);
		int completionTokens = (maxTokens != null) ? maxTokens
				: 16 + new Random(this.seed * 31 + prompt.hashCode()).nextInt(113);
		boolean stream = request.path("stream").asBoolean(false);
		boolean includeUsage = stream && request.path("stream_options").path("include_usage").asBoolean(false);
		String id = String.format(Locale.ROOT, "%s-%024x", endpoint.idPrefix, this.requestCount.incrementAndGet());
		return new Job(endpoint, id, this.clock.instant().getEpochSecond(), promptTokens, completionTokens,
				(maxTokens != null) ? "length" : "stop", stream, includeUsage, priority(request), List.of(), 0);
	}

	/**
	 * An embeddings request: {@code input} is a string, an array of strings or an array
	 * of token arrays; {@code dimensions} may shorten the vectors.
	 */
	private Job embeddingJob(JsonNode request) throws BadRequest {
		JsonNode input = request.get("input");
		List<String> inputs = new java.util.ArrayList<>();
		if (input != null && input.isString()) {
			inputs.add(input.stringValue());
		}
		else if (input != null && input.isArray() && !input.isEmpty()) {
			for (JsonNode element : input) {
				if (element.isString()) {
					inputs.add(element.stringValue());
				}
				else if (element.isArray() || element.isNumber()) {
					inputs.add("tokn".repeat(Math.max(1, element.size())));
				}
				else {
					throw new BadRequest(400, "input must be a string, an array of strings or of token arrays.", null);
				}
			}
		}
		else {
			throw new BadRequest(400, "input must be a non-empty string or array.", null);
		}
		int dimensions = this.embeddingSize;
		JsonNode asked = request.get("dimensions");
		if (asked != null && !asked.isNull()) {
			if (!asked.isIntegralNumber() || asked.asInt() < 1 || asked.asInt() > this.embeddingSize) {
				throw new BadRequest(400, "dimensions must be an integer from 1 to " + this.embeddingSize + ".", null);
			}
			dimensions = asked.asInt();
		}
		int promptTokens = 0;
		for (String text : inputs) {
			promptTokens += Math.max(1, text.length() / 4);
		}
		String id = String.format(Locale.ROOT, "%s-%024x", Endpoint.EMBEDDINGS.idPrefix,
				this.requestCount.incrementAndGet());
		return new Job(Endpoint.EMBEDDINGS, id, this.clock.instant().getEpochSecond(), promptTokens, 0, "stop", false,
				false, priority(request), List.copyOf(inputs), dimensions);
	}

	/**
	 * Answers an embeddings request after its prefill (embedding models decode nothing):
	 * one unit vector per input, the same for the same text.
	 */
	private boolean embed(HttpExchange exchange, Sequence sequence) throws IOException {
		awaitTokens(sequence, 1);
		Job job = sequence.job;
		ObjectNode response = this.json.createObjectNode();
		response.put("object", "list");
		var data = response.putArray("data");
		for (int i = 0; i < job.inputs().size(); i++) {
			Random random = new Random(this.seed * 31 + job.inputs().get(i).hashCode());
			double[] vector = new double[job.dimensions()];
			double norm = 0;
			for (int d = 0; d < vector.length; d++) {
				vector[d] = random.nextGaussian();
				norm += vector[d] * vector[d];
			}
			norm = Math.sqrt(norm);
			ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
			var embedding = item.putArray("embedding");
			for (double value : vector) {
				embedding.add((float) (value / norm));
			}
		}
		response.put("model", this.servedModel);
		response.putObject("usage").put("prompt_tokens", job.promptTokens()).put("total_tokens", job.promptTokens());
		release(sequence, true);
		sendJson(exchange, 200, response);
		return true;
	}

	/**
	 * The width of a model's embedding vectors: its hidden size where known (Llama 3.1 8B
	 * 4096, Qwen 2.5 32B 5120), else 1024.
	 * @param model the served model
	 * @return the size
	 */
	static int embeddingSizeOf(String model) {
		if (model.startsWith("llama-3.1-8b")) {
			return 4096;
		}
		if (model.startsWith("qwen2.5-32b")) {
			return 5120;
		}
		return 1024;
	}

	private static String chatText(JsonNode request) throws BadRequest {
		JsonNode messages = request.get("messages");
		if (messages == null || !messages.isArray() || messages.isEmpty()) {
			throw new BadRequest(400, "messages must be a non-empty array.", null);
		}
		StringBuilder text = new StringBuilder();
		for (JsonNode message : messages) {
			JsonNode content = message.path("content");
			if (content.isString()) {
				text.append(content.stringValue());
			}
			else if (content.isArray()) {
				for (JsonNode part : content) {
					text.append(part.path("text").asString(""));
				}
			}
		}
		return text.toString();
	}

	private static String completionText(JsonNode request) throws BadRequest {
		JsonNode prompt = request.get("prompt");
		if (prompt == null || prompt.isNull()) {
			throw new BadRequest(400, "prompt must be given.", null);
		}
		if (prompt.isString()) {
			return prompt.stringValue();
		}
		if (prompt.isArray()) {
			StringBuilder text = new StringBuilder();
			for (JsonNode element : prompt) {
				// Token ids count as one token (four characters) each.
				text.append(element.isString() ? element.stringValue() : "tokn".repeat(Math.max(1, element.size())));
			}
			return text.toString();
		}
		throw new BadRequest(400, "prompt must be a string or an array.", null);
	}

	private static int priority(JsonNode request) throws BadRequest {
		JsonNode value = request.get("priority");
		if (value == null || value.isNull()) {
			return 0;
		}
		if (!value.isIntegralNumber() || !value.canConvertToInt()) {
			throw new BadRequest(400, "priority must be an integer.", null);
		}
		return value.asInt();
	}

	private static Integer maxTokens(JsonNode request) throws BadRequest {
		for (String field : List.of("max_completion_tokens", "max_tokens")) {
			JsonNode value = request.get(field);
			if (value != null && !value.isNull()) {
				if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 1) {
					throw new BadRequest(400, field + " must be an integer of at least 1.", null);
				}
				return value.asInt();
			}
		}
		return null;
	}

	private Chaos takeChaos() {
		return read(() -> {
			if (this.connectionFailuresToInject > 0) {
				this.connectionFailuresToInject--;
				return Chaos.CLOSE_CONNECTION;
			}
			if (this.serverErrorsToInject > 0) {
				this.serverErrorsToInject--;
				return Chaos.SERVER_ERROR;
			}
			if (this.stallsToInject > 0) {
				this.stallsToInject--;
				return Chaos.STALL;
			}
			return Chaos.NONE;
		});
	}

	private Sequence admit(Job job) throws AbortConnection {
		this.lock.lock();
		try {
			if (this.stopped) {
				throw new AbortConnection("stopped");
			}
			Sequence sequence = new Sequence(job);
			this.prioritiesSeen.merge(job.priority(), 1L, Long::sum);
			// An embedding decodes nothing: it runs as its prefill and the one step that
			// ends it, the engine's smallest sequence.
			sequence.engine = this.engine.submit(job.promptTokens(), Math.max(1, job.completionTokens()),
					job.priority(), sequence, System.nanoTime());
			this.active.add(sequence);
			this.peakActive = Math.max(this.peakActive, this.active.size());
			return sequence;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Called under the lock whenever a sequence enters or leaves the engine's batch. */
	private void computingChanged(int delta, long at) {
		boolean before = this.computing > 0;
		this.computing += delta;
		boolean after = this.computing > 0;
		if (before != after) {
			this.busy.transition(after, at);
			this.busyListeners.forEach((listener) -> listener.transition(after, at));
		}
	}

	/**
	 * Nanoseconds (on {@link System#nanoTime()}) the engine has computed, with at least
	 * one sequence in its batch, from the server's start up to a time: what a GPU's
	 * activity counters see of this pod. Exact at any time of the last minutes.
	 * @param at a time on {@link System#nanoTime()}
	 * @return busy nanoseconds up to then
	 */
	public long busyNanos(long at) {
		this.lock.lock();
		try {
			this.engine.advanceTo(Math.max(at, System.nanoTime()));
			return this.busy.busyNanos(at);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Tells a listener each time the engine starts or stops computing (called under the
	 * server's lock, with the time on {@link System#nanoTime()}).
	 * @param listener the listener
	 */
	public void addBusyListener(BusyLog.Transitions listener) {
		this.busyListeners.add(listener);
	}

	/**
	 * Frees the sequence's place in the engine, once: an answer's last token frees it
	 * before the last bytes are written (as an engine's scheduler frees a finished
	 * sequence before its server sends the end of the answer), so that the caller, which
	 * may send its next request the moment the answer ends, never finds this one still
	 * counted.
	 */
	private void release(Sequence sequence, boolean finished) {
		this.lock.lock();
		try {
			if (sequence.released) {
				return;
			}
			sequence.released = true;
			long now = System.nanoTime();
			this.engine.advanceTo(now);
			InferenceEngine.State state = sequence.engine.state();
			this.engine.abort(sequence.engine, now);
			if (state == InferenceEngine.State.PREFILL || state == InferenceEngine.State.DECODE) {
				computingChanged(-1, now);
			}
			this.active.remove(sequence);
			if (sequence.engine.firstTokenAt() >= 0) {
				this.promptTokensTotal += sequence.job.promptTokens();
			}
			this.generationTokensTotal += sequence.engine.tokens();
			if (finished) {
				this.completedCount++;
			}
			else {
				this.abortedCount++;
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Waits until the sequence has generated at least {@code wanted} tokens, waking when
	 * its next token is due and whenever the batch changes.
	 * @return the tokens generated so far
	 */
	private int awaitTokens(Sequence sequence, int wanted) throws AbortConnection {
		this.lock.lock();
		try {
			while (true) {
				long now = System.nanoTime();
				this.engine.advanceTo(now);
				if (this.stopped) {
					throw new AbortConnection("server stopped");
				}
				if (Thread.currentThread().isInterrupted()) {
					throw new AbortConnection("interrupted");
				}
				int tokens = (int) sequence.engine.tokens();
				if (sequence.doomed && tokens >= TOKENS_BEFORE_DYING) {
					return tokens;
				}
				if (tokens >= wanted || sequence.engine.state() == InferenceEngine.State.FINISHED) {
					return tokens;
				}
				long due = this.engine.nextTokenTime(sequence.engine);
				if (due == Long.MAX_VALUE) {
					this.changed.awaitUninterruptibly();
				}
				else if (due > now) {
					try {
						this.changed.awaitNanos(due - now);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
						throw new AbortConnection("interrupted");
					}
				}
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	private boolean answer(HttpExchange exchange, Sequence sequence) throws IOException {
		Job job = sequence.job;
		awaitTokens(sequence, job.completionTokens());
		checkDoomed(sequence, job.completionTokens());
		StringBuilder text = new StringBuilder();
		for (int i = 0; i < job.completionTokens(); i++) {
			text.append(word(i));
		}
		ObjectNode response = envelope(job, job.endpoint().objectName);
		ObjectNode choice = response.putArray("choices").addObject().put("index", 0);
		if (job.endpoint() == Endpoint.CHAT) {
			choice.putObject("message").put("role", "assistant").put("content", text.toString());
		}
		else {
			choice.put("text", text.toString());
		}
		choice.putNull("logprobs");
		choice.put("finish_reason", job.finishReason());
		putUsage(response, job);
		release(sequence, true);
		sendJson(exchange, 200, response);
		return true;
	}

	private boolean stream(HttpExchange exchange, Sequence sequence) throws IOException {
		Job job = sequence.job;
		OutputStream body = null;
		int written = 0;
		while (written < job.completionTokens()) {
			int generated = awaitTokens(sequence, written + 1);
			if (written >= generated) {
				checkDoomed(sequence, written);
				continue;
			}
			if (body == null) {
				exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
				exchange.getResponseHeaders().set("Cache-Control", "no-cache");
				exchange.sendResponseHeaders(200, 0);
				body = exchange.getResponseBody();
			}
			int index = written++;
			boolean last = written == job.completionTokens();
			ObjectNode chunk = envelope(job, job.endpoint().chunkObjectName);
			ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
			if (job.endpoint() == Endpoint.CHAT) {
				ObjectNode delta = choice.putObject("delta");
				if (index == 0) {
					delta.put("role", "assistant");
				}
				delta.put("content", word(index));
			}
			else {
				choice.put("text", word(index));
			}
			choice.putNull("logprobs");
			if (last) {
				choice.put("finish_reason", job.finishReason());
			}
			else {
				choice.putNull("finish_reason");
			}
			if (job.includeUsage()) {
				chunk.putNull("usage");
			}
			if (last) {
				release(sequence, true);
			}
			writeEvent(body, chunk);
			if (written >= generated) {
				checkDoomed(sequence, written);
			}
		}
		if (job.includeUsage()) {
			ObjectNode usageChunk = envelope(job, job.endpoint().chunkObjectName);
			usageChunk.putArray("choices");
			putUsage(usageChunk, job);
			writeEvent(body, usageChunk);
		}
		write(body, DONE_EVENT);
		exchange.close();
		return true;
	}

	private static void checkDoomed(Sequence sequence, int tokens) throws AbortConnection {
		if (sequence.doomed && tokens >= TOKENS_BEFORE_DYING) {
			throw new AbortConnection("died mid-stream");
		}
	}

	private String word(int index) {
		String word = FILLER_WORDS.get(index % FILLER_WORDS.size());
		return (index == 0) ? word : " " + word;
	}

	private ObjectNode envelope(Job job, String object) {
		ObjectNode node = this.json.createObjectNode();
		node.put("id", job.id());
		node.put("object", object);
		node.put("created", job.created());
		node.put("model", this.servedModel);
		return node;
	}

	private static void putUsage(ObjectNode node, Job job) {
		node.putObject("usage")
			.put("prompt_tokens", job.promptTokens())
			.put("completion_tokens", job.completionTokens())
			.put("total_tokens", job.promptTokens() + job.completionTokens());
	}

	private void writeEvent(OutputStream body, ObjectNode event) throws AbortConnection {
		byte[] data = this.json.writeValueAsBytes(event);
		byte[] framed = new byte[data.length + 8];
		System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, framed, 0, 6);
		System.arraycopy(data, 0, framed, 6, data.length);
		framed[framed.length - 2] = '\n';
		framed[framed.length - 1] = '\n';
		write(body, framed);
	}

	private static void write(OutputStream body, byte[] bytes) throws AbortConnection {
		try {
			body.write(bytes);
			body.flush();
		}
		catch (IOException ex) {
			throw new AbortConnection("client went away");
		}
	}

	private void models(HttpExchange exchange) throws IOException {
		ObjectNode list = this.json.createObjectNode().put("object", "list");
		ArrayNode data = list.putArray("data");
		data.addObject()
			.put("id", this.servedModel)
			.put("object", "model")
			.put("created", this.createdEpochSecond)
			.put("max_model_len", this.maxModelLen)
			.put("owned_by", OWNER);
		sendJson(exchange, 200, list);
	}

	private void metrics(HttpExchange exchange) throws IOException {
		String label = "{model_name=\""
				+ this.servedModel.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"}";
		StringBuilder text = new StringBuilder();
		this.lock.lock();
		try {
			this.engine.advanceTo(System.nanoTime());
			double cacheUsage = this.engine.kvCacheUsage();
			metric(text, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", label,
					this.engine.running());
			metric(text, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", label,
					this.engine.waiting());
			metric(text, "vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", label,
					cacheUsage);
			metric(text, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", label,
					cacheUsage);
			metric(text, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", label,
					this.promptTokensTotal);
			// As vLLM's counter, it grows with every token, not when a request ends.
			long generating = 0;
			for (Sequence sequence : this.active) {
				generating += sequence.engine.tokens();
			}
			metric(text, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", label,
					this.generationTokensTotal + generating);
		}
		finally {
			this.lock.unlock();
		}
		send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
				text.toString().getBytes(StandardCharsets.UTF_8));
	}

	private static void metric(StringBuilder text, String name, String type, String help, String label, double value) {
		text.append("# HELP ").append(name).append(' ').append(help).append('\n');
		text.append("# TYPE ").append(name).append(' ').append(type).append('\n');
		text.append(name).append(label).append(' ').append(value).append('\n');
	}

	private void health(HttpExchange exchange) throws IOException {
		exchange.sendResponseHeaders(200, -1);
		exchange.close();
	}

	private void sendError(HttpExchange exchange, int status, String message, String type, String code)
			throws IOException {
		ObjectNode error = this.json.createObjectNode();
		error.putObject("error").put("message", message).put("type", type).putNull("param").put("code", code);
		sendJson(exchange, status, error);
	}

	private void sendJson(HttpExchange exchange, int status, ObjectNode body) throws IOException {
		send(exchange, status, "application/json", this.json.writeValueAsBytes(body));
	}

	private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
		exchange.getResponseHeaders().set("Content-Type", contentType);
		exchange.sendResponseHeaders(status, body.length);
		try (OutputStream out = exchange.getResponseBody()) {
			out.write(body);
		}
		catch (IOException ex) {
			throw new AbortConnection("client went away");
		}
	}

	private <T> T read(Supplier<T> action) {
		this.lock.lock();
		try {
			return action.get();
		}
		finally {
			this.lock.unlock();
		}
	}

	private void update(Runnable action) {
		this.lock.lock();
		try {
			action.run();
		}
		finally {
			this.lock.unlock();
		}
	}

	private static void requireNotNegative(int requests) {
		if (requests < 0) {
			throw new IllegalArgumentException("requests must be zero or more, was " + requests);
		}
	}

	/**
	 * Builds a {@link SimulatedInferenceServer}.
	 */
	public static final class Builder {

		private final String servedModel;

		private final GpuServiceTimeModel serviceTime;

		private int slots = 8;

		private long seed = 42;

		private Clock clock = Clock.systemUTC();

		private int port;

		private int maxModelLen = 8192;

		private InferenceEngine.Policy policy = InferenceEngine.Policy.PRIORITY;

		private Builder(String servedModel, GpuServiceTimeModel serviceTime) {
			if (servedModel == null || servedModel.isBlank()) {
				throw new IllegalArgumentException("servedModel must not be blank");
			}
			if (serviceTime == null) {
				throw new IllegalArgumentException("serviceTime must not be null");
			}
			this.servedModel = servedModel;
			this.serviceTime = serviceTime;
		}

		/**
		 * Sets how many requests may run at once (vLLM's {@code --max-num-seqs}).
		 * @param slots 1 or more
		 * @return this builder
		 */
		public Builder slots(int slots) {
			if (slots < 1) {
				throw new IllegalArgumentException("slots must be at least 1, was " + slots);
			}
			this.slots = slots;
			return this;
		}

		/**
		 * Sets the context length reported as {@code max_model_len} by
		 * {@code GET /v1/models}, as vLLM reports its {@code --max-model-len}.
		 * @param maxModelLen 1 or more (default 8192)
		 * @return this builder
		 */
		public Builder maxModelLen(int maxModelLen) {
			if (maxModelLen < 1) {
				throw new IllegalArgumentException("maxModelLen must be at least 1, was " + maxModelLen);
			}
			this.maxModelLen = maxModelLen;
			return this;
		}

		/**
		 * Sets how the engine orders its waiting queue.
		 * @param policy {@code PRIORITY} (the default) or {@code FCFS}
		 * @return this builder
		 */
		public Builder policy(InferenceEngine.Policy policy) {
			if (policy == null) {
				throw new IllegalArgumentException("policy must not be null");
			}
			this.policy = policy;
			return this;
		}

		/**
		 * Sets the seed of the generated lengths.
		 * @param seed any value
		 * @return this builder
		 */
		public Builder seed(long seed) {
			this.seed = seed;
			return this;
		}

		/**
		 * Sets the clock the {@code created} timestamps are read from.
		 * @param clock the clock
		 * @return this builder
		 */
		public Builder clock(Clock clock) {
			if (clock == null) {
				throw new IllegalArgumentException("clock must not be null");
			}
			this.clock = clock;
			return this;
		}

		/**
		 * Sets the port to listen on.
		 * @param port 0 for an ephemeral port (the default), or 1 to 65535
		 * @return this builder
		 */
		public Builder port(int port) {
			if (port < 0 || port > 65_535) {
				throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
			}
			this.port = port;
			return this;
		}

		/**
		 * Builds the server, not yet started.
		 * @return the server
		 */
		public SimulatedInferenceServer build() {
			return new SimulatedInferenceServer(this);
		}

	}

	private enum Endpoint {

		CHAT("chatcmpl", "chat.completion", "chat.completion.chunk"),

		COMPLETIONS("cmpl", "text_completion", "text_completion"),

		EMBEDDINGS("embd", "list", "list");

		private final String idPrefix;

		private final String objectName;

		private final String chunkObjectName;

		Endpoint(String idPrefix, String objectName, String chunkObjectName) {
			this.idPrefix = idPrefix;
			this.objectName = objectName;
			this.chunkObjectName = chunkObjectName;
		}

	}

	private enum Chaos {

		NONE, CLOSE_CONNECTION, SERVER_ERROR, STALL

	}

	@FunctionalInterface
	private interface Handler {

		void handle(HttpExchange exchange) throws IOException;

	}

	/**
	 * One parsed completion request.
	 */
	private record Job(Endpoint endpoint, String id, long created, int promptTokens, int completionTokens,
			String finishReason, boolean stream, boolean includeUsage, int priority, List<String> inputs,
			int dimensions) {
	}

	/**
	 * One request from admission to release; its engine sequence is guarded by the
	 * server's lock.
	 */
	private static final class Sequence {

		private final Job job;

		private InferenceEngine.Sequence engine;

		private volatile boolean doomed;

		/** Guarded by the server's lock. */
		private boolean released;

		private Sequence(Job job) {
			this.job = job;
		}

	}

	/**
	 * Thrown out of the handler to make the HTTP server close the connection without
	 * finishing the response.
	 */
	private static final class AbortConnection extends IOException {

		private AbortConnection(String reason) {
			super(reason);
		}

	}

	/**
	 * A request the server answers with an OpenAI-shaped client error.
	 */
	private static final class BadRequest extends Exception {

		private final int status;

		private final String code;

		private BadRequest(int status, String message, String code) {
			super(message, null, false, false);
			this.status = status;
			this.code = code;
		}

	}

}
