package dev.tiergate.requestlog;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.dao.DataAccessException;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.tier.Tier;

/**
 * The request log in Redis: one stream per day of arrival (UTC), trimmed to about
 * {@link RequestLogProperties#maxPerDay()} records and expiring
 * {@link RequestLogProperties#retention()} after the day. An {@link #append} only puts
 * the record in a bounded in-memory buffer; one writer thread drains it every
 * {@link RequestLogProperties#flushInterval()}, writing up to
 * {@link RequestLogProperties#batchSize()} records in each pipelined round trip. Records
 * are cross-tenant, so the keys carry no tenant hash tag; a day's stream lives in one
 * Redis Cluster slot.
 * <p>
 * A record whose write fails is dropped and counted: the log is an account of traffic for
 * replay and capacity planning, not a ledger (usage and quotas are kept by
 * {@code quota}).
 */
public class RedisRequestLog implements RequestLog, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(RedisRequestLog.class);

	private static final int PAGE = 1000;

	/**
	 * How far a replica's clock may run ahead of Redis's without records going missing.
	 */
	private static final long CLOCK_SKEW_MILLIS = 60_000;

	private final StringRedisTemplate redis;

	private final RequestLogProperties properties;

	private final BlockingQueue<RequestRecord> buffer;

	private final Counter written;

	private final Counter dropped;

	private final Object flushLock = new Object();

	private volatile Thread writer;

	private volatile boolean running;

	public RedisRequestLog(StringRedisTemplate redis, RequestLogProperties properties, MeterRegistry meters) {
		this.redis = redis;
		this.properties = properties;
		this.buffer = new ArrayBlockingQueue<>(properties.buffer());
		this.written = Counter.builder("tiergate.requestlog.written")
			.description("Request log records written to Redis")
			.register(meters);
		this.dropped = Counter.builder("tiergate.requestlog.dropped")
			.description("Request log records dropped: the buffer was full or the write failed")
			.register(meters);
	}

	@Override
	public void append(RequestRecord record) {
		if (!this.buffer.offer(record)) {
			this.dropped.increment();
		}
	}

	/**
	 * Writes whatever is buffered now, on the caller's thread.
	 */
	public void flush() {
		synchronized (this.flushLock) {
			List<RequestRecord> batch = new ArrayList<>(this.properties.batchSize());
			while (this.buffer.drainTo(batch, this.properties.batchSize()) > 0) {
				write(batch);
				batch.clear();
			}
		}
	}

	private void write(List<RequestRecord> batch) {
		XAddOptions trim = XAddOptions.maxlen(this.properties.maxPerDay()).approximateTrimming(true);
		Map<String, Long> expiries = new HashMap<>();
		try {
			this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				for (RequestRecord record : batch) {
					LocalDate day = LocalDate.ofInstant(record.time(), ZoneOffset.UTC);
					String key = key(day);
					expiries.computeIfAbsent(key,
							(k) -> day.plusDays(1)
								.atStartOfDay(ZoneOffset.UTC)
								.toInstant()
								.plus(this.properties.retention())
								.getEpochSecond());
					connection.streamCommands()
						.xAdd(StreamRecords.rawBytes(fields(record)).withStreamKey(bytes(key)), trim);
				}
				expiries.forEach((key, at) -> connection.keyCommands().expireAt(bytes(key), at));
				return null;
			});
			this.written.increment(batch.size());
		}
		catch (DataAccessException ex) {
			this.dropped.increment(batch.size());
			logger.warn("Request log: {} records not written: {}", batch.size(), ex.getMessage());
		}
	}

	/**
	 * Reads the records that arrived in {@code [from, to)}, day by day, each day's in the
	 * order they were written (about the order they finished).
	 * @param from the first arrival time included
	 * @param to the first arrival time excluded
	 * @param tenant only this tenant's, or {@code null} for all
	 * @param sink given each record
	 */
	public void read(Instant from, Instant to, String tenant, Consumer<RequestRecord> sink) {
		LocalDate last = LocalDate.ofInstant(to.minusNanos(1), ZoneOffset.UTC);
		for (LocalDate day = LocalDate.ofInstant(from, ZoneOffset.UTC); !day.isAfter(last); day = day.plusDays(1)) {
			// A record is written after its request ends, so its stream id (Redis's time
			// of
			// writing) is after its arrival (the replica's clock): start the range at
			// 'from', less a margin for the two clocks' skew.
			String lower = Long.toString(Math.max(0, from.toEpochMilli() - CLOCK_SKEW_MILLIS));
			boolean inclusive = true;
			while (true) {
				Range<String> range = inclusive ? Range.of(Range.Bound.inclusive(lower), Range.Bound.unbounded())
						: Range.of(Range.Bound.exclusive(lower), Range.Bound.unbounded());
				List<MapRecord<String, Object, Object>> page = this.redis.opsForStream()
					.range(key(day), range, Limit.limit().count(PAGE));
				if (page == null || page.isEmpty()) {
					break;
				}
				for (MapRecord<String, Object, Object> entry : page) {
					RequestRecord record = record(entry.getValue());
					if (record != null && !record.time().isBefore(from) && record.time().isBefore(to)
							&& (tenant == null || tenant.equals(record.tenant()))) {
						sink.accept(record);
					}
				}
				if (page.size() < PAGE) {
					break;
				}
				lower = page.get(page.size() - 1).getId().getValue();
				inclusive = false;
			}
		}
	}

	/**
	 * The stream of one day.
	 * @param day the day of arrival (UTC)
	 * @return its key
	 */
	public String key(LocalDate day) {
		return this.properties.keyPrefix() + day;
	}

	private static Map<byte[], byte[]> fields(RequestRecord record) {
		Map<byte[], byte[]> fields = new LinkedHashMap<>();
		Instant time = record.time();
		put(fields, "t", Long.toString(time.getEpochSecond() * 1_000_000L + time.getNano() / 1_000));
		put(fields, "tn", record.tenant());
		put(fields, "tr", record.tier().name());
		put(fields, "m", record.model());
		put(fields, "a", record.api());
		put(fields, "s", record.stream() ? "1" : "0");
		put(fields, "st", Integer.toString(record.status()));
		put(fields, "p", Long.toString(record.promptTokens()));
		put(fields, "c", Long.toString(record.completionTokens()));
		put(fields, "q", Double.toString(record.queueMs()));
		put(fields, "f", Double.toString(record.ttftMs()));
		put(fields, "d", Double.toString(record.durationMs()));
		put(fields, "sb", record.servedBy());
		return fields;
	}

	private static RequestRecord record(Map<Object, Object> fields) {
		try {
			long micros = Long.parseLong(text(fields, "t"));
			return new RequestRecord(
					Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
							Math.floorMod(micros, 1_000_000L) * 1_000L),
					text(fields, "tn"), Tier.valueOf(text(fields, "tr")), text(fields, "m"), text(fields, "a"),
					"1".equals(text(fields, "s")), Integer.parseInt(text(fields, "st")),
					Long.parseLong(text(fields, "p")), Long.parseLong(text(fields, "c")),
					Double.parseDouble(text(fields, "q")), Double.parseDouble(text(fields, "f")),
					Double.parseDouble(text(fields, "d")),
					// Records written before spill have no "sb": the fleet served them.
					(fields.get("sb") != null) ? fields.get("sb").toString() : RequestRecord.FLEET);
		}
		catch (RuntimeException ex) {
			// a record of another version, or damaged: skipped
			return null;
		}
	}

	private static String text(Map<Object, Object> fields, String key) {
		Object value = fields.get(key);
		if (value == null) {
			throw new IllegalArgumentException("missing " + key);
		}
		return value.toString();
	}

	private static void put(Map<byte[], byte[]> fields, String key, String value) {
		fields.put(bytes(key), bytes(value));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public void start() {
		this.running = true;
		this.writer = Thread.ofPlatform().daemon().name("tiergate-request-log").start(this::drain);
	}

	private void drain() {
		// Time-based batching: one pipelined write per interval (more when the buffer
		// holds more than a batch), whatever the request rate.
		while (this.running) {
			try {
				Thread.sleep(this.properties.flushInterval());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			flush();
		}
	}

	@Override
	public void stop() {
		this.running = false;
		Thread thread = this.writer;
		if (thread != null) {
			thread.interrupt();
			try {
				thread.join(Duration.ofSeconds(5));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		flush();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Stops after the web server (graceful shutdown and stop run at
	 * {@code DEFAULT_PHASE - 1024} and {@code - 2048}), so that the requests it drains
	 * are logged, and before the Redis connection factory (phase 0) closes.
	 * @return the phase
	 */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 4096;
	}

}
