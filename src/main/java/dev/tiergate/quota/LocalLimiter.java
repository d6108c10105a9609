package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-replica limiter used while Redis is unavailable, for tiers that fail open: the
 * same sliding minute of requests and tokens and the same concurrency limit as Redis, but
 * counted on this replica only (so N replicas may together admit up to N times the
 * limits). The monthly budget cannot be known without Redis and is not enforced here.
 * Runs on the injected clock.
 */
final class LocalLimiter {

	private final Clock clock;

	private final Map<String, Window> windows = new ConcurrentHashMap<>();

	LocalLimiter(Clock clock) {
		this.clock = clock;
	}

	QuotaDecision admit(Tenant tenant, String requestId, long tokens) {
		if (tokens < 0) {
			throw new InvalidReservationException("max_tokens",
					"A reservation cannot be negative, was " + tokens + ".");
		}
		Limits limits = tenant.limits();
		Window window = this.windows.computeIfAbsent(tenant.id(), (id) -> new Window());
		synchronized (window) {
			long now = this.clock.millis();
			window.trim(now);
			long rpm = (limits.requestsPerMinute() != null) ? limits.requestsPerMinute() : -1;
			long tpm = (limits.tokensPerMinute() != null) ? limits.tokensPerMinute() : -1;
			if (rpm >= 0 && window.entries.size() + 1 > rpm) {
				long oldest = window.entries.peekFirst().at;
				return refuse("requests_per_minute", oldest + QuotaService.WINDOW_MS - now, window, rpm, tpm);
			}
			if (tpm >= 0 && tokens > tpm - window.tokens) {
				long retry = QuotaService.WINDOW_MS;
				long freed = 0;
				for (Entry entry : window.entries) {
					freed += entry.tokens;
					if (tokens <= tpm - (window.tokens - freed)) {
						retry = entry.at + QuotaService.WINDOW_MS - now;
						break;
					}
				}
				return refuse("tokens_per_minute", retry, window, rpm, tpm);
			}
			if (limits.maxConcurrent() != null && window.inFlight.size() + 1 > limits.maxConcurrent()) {
				return refuse("max_concurrent", 1000, window, rpm, tpm);
			}
			Entry entry = new Entry(now, tokens);
			window.entries.addLast(entry);
			window.tokens = Math.addExact(window.tokens, tokens);
			window.inFlight.put(requestId, entry);
			return new QuotaDecision(true, null, null, (rpm >= 0) ? rpm - window.entries.size() : -1,
					(tpm >= 0) ? tpm - window.tokens : -1);
		}
	}

	private static QuotaDecision refuse(String limit, long retryMs, Window window, long rpm, long tpm) {
		return new QuotaDecision(false, limit, Duration.ofMillis(Math.max(1, retryMs)),
				(rpm >= 0) ? Math.max(0, rpm - window.entries.size()) : -1,
				(tpm >= 0) ? Math.max(0, tpm - window.tokens) : -1);
	}

	/**
	 * Ends a locally admitted request: its tokens become the real ones (if still in the
	 * window) and its concurrency slot is freed. A negative count (a confused engine's
	 * usage) counts as none.
	 */
	void finish(String tenantId, String requestId, long reportedTokens) {
		long actualTokens = Math.max(0, reportedTokens);
		Window window = this.windows.get(tenantId);
		if (window == null) {
			return;
		}
		synchronized (window) {
			Entry entry = window.inFlight.remove(requestId);
			if (entry != null && entry.inWindow) {
				window.tokens += actualTokens - entry.tokens;
				entry.tokens = actualTokens;
			}
		}
	}

	private static final class Window {

		private final ArrayDeque<Entry> entries = new ArrayDeque<>();

		private final Map<String, Entry> inFlight = new HashMap<>();

		private long tokens;

		void trim(long now) {
			Iterator<Entry> it = this.entries.iterator();
			while (it.hasNext()) {
				Entry entry = it.next();
				if (entry.at > now - QuotaService.WINDOW_MS) {
					break;
				}
				it.remove();
				entry.inWindow = false;
				this.tokens -= entry.tokens;
			}
		}

	}

	private static final class Entry {

		private final long at;

		private long tokens;

		private boolean inWindow = true;

		Entry(long at, long tokens) {
			this.at = at;
			this.tokens = tokens;
		}

	}

}
