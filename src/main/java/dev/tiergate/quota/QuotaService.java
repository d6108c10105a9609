package dev.tiergate.quota;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.core.script.ScriptExecutor;

import dev.tiergate.replica.RequestIds;
import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Enforces tenants' limits on the admission path, in one Redis round trip per request of
 * a tenant with limits: an atomic Lua script (called by SHA; Spring's script executor
 * falls back to {@code EVAL}, which reloads it, on {@code NOSCRIPT}) checks the sliding
 * minute of requests and tokens, the concurrency leases and the monthly budget on Redis's
 * own clock, and records the request only if all pass. When the request ends its token
 * reservation is reconciled with the real usage and its lease released, off the request's
 * thread and together with the other requests that ended meanwhile
 * ({@link SettlementBatcher}); while it runs, the lease is renewed.
 * <p>
 * A tenant with no limit to check is admitted without a round trip: nothing in Redis
 * could refuse it. Its admission (the lease, the reservation charged to the month) is
 * handed to the settling thread with its end, and applied in order before it, a round
 * trip after the answer, so the tenant's live counters and usage stay what they would be.
 * <p>
 * When Redis fails, a circuit breaker stops calls to it, and each tier follows its outage
 * policy: fail open to the {@link LocalLimiter} (P0 by default) or fail closed with
 * {@link QuotaException.Unavailable}.
 */
public class QuotaService implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(QuotaService.class);

	static final long WINDOW_MS = 60_000;

	/**
	 * Largest reservation counted: every integer up to it is exact in Lua's numbers (IEEE
	 * doubles), so the scripts' sums cannot round or wrap.
	 */
	static final long MAX_RESERVATION = (1L << 53) - 1;

	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> ADMIT = withPrelude("admit.lua", List.class);

	private static final RedisScript<Long> SETTLE = withPrelude("settle.lua", Long.class);

	/** Longest a reader waits for this replica's settlements handed over before it. */
	private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(1);

	private static final RedisScript<Long> RENEW = RedisScript.of(new ClassPathResource("dev/tiergate/quota/renew.lua"),
			Long.class);

	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> STATUS = new DefaultRedisScript<>("""
			local t = redis.call('TIME')
			local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
			local nowMs = math.floor(nowUs / 1000)
			local requests = redis.call('ZCOUNT', KEYS[1], '(' .. (nowUs - tonumber(ARGV[1]) * 1000), '+inf')
			local tokens = tonumber(redis.call('HGET', KEYS[2], '_sum') or '0')
			local inFlight = redis.call('ZCOUNT', KEYS[3], '(' .. nowMs, '+inf')
			local month = tonumber(redis.call('HGET', KEYS[5], ARGV[2]) or '0')
			return { requests, tokens, inFlight, month }""", List.class);

	private final StringRedisTemplate redis;

	private final QuotaProperties properties;

	private final Clock clock;

	/** The clock in UTC, for the month of an admission recorded after the answer. */
	private final Clock utc;

	private final MeterRegistry meters;

	/** The decision counters, looked up once per tag combination. */
	private final Map<DecisionKey, Counter> decisions = new ConcurrentHashMap<>();

	private final QuotaBackendCircuit circuit;

	private final LocalLimiter local;

	private final Map<String, QuotaPermit> running = new ConcurrentHashMap<>();

	private final SettlementJournal journal;

	/** Runs the scripts on the template's connection without a proxy per call. */
	private final ScriptExecutor<String> scripts;

	private final ScheduledExecutorService renewal;

	/**
	 * Settles off the request's thread; {@code null} when requests settle on their own.
	 */
	private final SettlementBatcher settlements;

	/** How many request ends the settling thread applies at once. */
	private final DistributionSummary settlementBatches;

	QuotaService(StringRedisTemplate redis, QuotaProperties properties, Clock clock, MeterRegistry meters,
			QuotaBackendCircuit circuit) {
		this.redis = redis;
		this.scripts = new UnproxiedScriptExecutor<>(redis);
		this.properties = properties;
		this.clock = clock;
		this.utc = clock.withZone(ZoneOffset.UTC);
		this.meters = meters;
		this.circuit = circuit;
		this.local = new LocalLimiter(clock);
		this.journal = new SettlementJournal(properties.journalCapacity(), meters);
		this.settlementBatches = DistributionSummary.builder("tiergate.quota.settlement.batch")
			.description(
					"Request ends, and admissions of tenants without limits, applied together by the settling thread "
							+ "(one Redis call per tenant among them)")
			.register(meters);
		this.settlements = (properties.settlementBatch() > 0)
				? new SettlementBatcher(properties.settlementBatch(), properties.settlementLinger(), this::settleAll)
				: null;
		this.renewal = Executors
			.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("quota-lease-renewal").factory());
		long every = Math.max(10, properties.leaseTtl().toMillis() / 3);
		this.renewal.scheduleWithFixedDelay(this::renewLeases, every, every, TimeUnit.MILLISECONDS);
	}

	@SuppressWarnings("rawtypes")
	/**
	 * A script with {@code prelude.lua} prepended, so every script that counts months,
	 * takes leases or drops expired ones does it the same way.
	 */
	private static <T> RedisScript<T> withPrelude(String name, Class<T> result) {
		try {
			String prelude = new ClassPathResource("dev/tiergate/quota/prelude.lua")
				.getContentAsString(StandardCharsets.UTF_8);
			String script = new ClassPathResource("dev/tiergate/quota/" + name)
				.getContentAsString(StandardCharsets.UTF_8);
			return new DefaultRedisScript<>(prelude + script, result);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Quota script " + name + " is missing from the classpath", ex);
		}
	}

	/** The usage hash's counter of requests served by a hosted upstream (spilled). */
	static final String HOSTED = "hosted";

	/** The usage hash's counter of attributed GPU-seconds (a float). */
	static final String GPU_SECONDS = "gpu_seconds";

	/** The usage hash's counter of the GPU-seconds' price in US dollars (a float). */
	static final String GPU_COST = "gpu_cost";

	static String key(String tenantId, String part) {
		return "tg:quota:{" + tenantId + "}:" + part;
	}

	private static List<String> keys(String tenantId) {
		return keys(tenantId, false);
	}

	/**
	 * The keys of the admission and reconciliation scripts. Batch items hold their leases
	 * in keys of their own, so that they never count against the tenant's concurrency
	 * limit of online requests.
	 */
	private static List<String> keys(String tenantId, boolean batch) {
		return List.of(key(tenantId, "win"), key(tenantId, "wintok"), key(tenantId, batch ? "batchleases" : "leases"),
				key(tenantId, batch ? "batchinflight" : "inflight"), key(tenantId, "budget"), key(tenantId, "usage:"),
				key(tenantId, "settled"));
	}

	/**
	 * Adds a batch's tokens to the tenant's enqueued total if it stays within the limit.
	 */
	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> RESERVE_ENQUEUED = new DefaultRedisScript<>("""
			local sum = tonumber(redis.call('HGET', KEYS[1], '_sum') or '0')
			local tokens = tonumber(ARGV[2])
			local limit = tonumber(ARGV[3])
			if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return { 1, sum } end
			if limit >= 0 and sum + tokens > limit then return { 0, sum } end
			redis.call('HSET', KEYS[1], ARGV[1], tokens)
			redis.call('HINCRBY', KEYS[1], '_sum', tokens)
			return { 1, sum + tokens }""", List.class);

	/** Takes a batch's tokens off the enqueued total, once. */
	private static final RedisScript<Long> RELEASE_ENQUEUED = new DefaultRedisScript<>("""
			local tokens = redis.call('HGET', KEYS[1], ARGV[1])
			if not tokens then return 0 end
			redis.call('HDEL', KEYS[1], ARGV[1])
			redis.call('HINCRBY', KEYS[1], '_sum', -tonumber(tokens))
			return tonumber(tokens)""", Long.class);

	/**
	 * Counts a new batch's tokens against the tenant's limit of tokens enqueued in
	 * unfinished batches (OpenAI's "enqueued tokens"), atomically: either the whole batch
	 * fits or nothing is counted. Counting the same batch again does nothing.
	 * @param tenant the tenant, with its limits
	 * @param batchId the batch
	 * @param tokens its prompt estimates plus completion allowances
	 * @throws QuotaException.Exceeded (429 {@code token_limit_exceeded}) if the batch
	 * does not fit
	 */
	public void reserveEnqueued(Tenant tenant, String batchId, long tokens) {
		Long limit = tenant.limits().enqueuedTokens();
		List<?> result = this.scripts.execute(RESERVE_ENQUEUED, List.of(key(tenant.id(), "enqueued")), batchId,
				Long.toString(tokens), limit(limit));
		if (((Number) result.get(0)).longValue() == 1) {
			return;
		}
		long enqueued = ((Number) result.get(1)).longValue();
		count(tenant.defaultTier(), "rejected", "enqueued_tokens");
		throw new QuotaException.Exceeded("enqueued_tokens",
				"Enqueued token limit reached: this batch needs " + tokens + " tokens (prompt estimates + max_tokens), "
						+ enqueued + " are enqueued in unfinished batches, the limit is " + limit
						+ ". Try again once some batches have finished.",
				Duration.ofMinutes(1), Map.of("x-tiergate-quota-limit", "enqueued_tokens"));
	}

	/**
	 * Takes a finished (or refused) batch's tokens off the enqueued total; safe to call
	 * more than once.
	 * @param tenantId the tenant
	 * @param batchId the batch
	 */
	public void releaseEnqueued(String tenantId, String batchId) {
		this.scripts.execute(RELEASE_ENQUEUED, List.of(key(tenantId, "enqueued")), batchId);
	}

	/**
	 * Tokens the tenant has enqueued in unfinished batches.
	 * @param tenantId the tenant
	 * @return the total
	 */
	public long enqueued(String tenantId) {
		Object sum = this.redis.opsForHash().get(key(tenantId, "enqueued"), "_sum");
		return (sum != null) ? Long.parseLong((String) sum) : 0;
	}

	/**
	 * Admits one batch item against its tenant's monthly token budget only: batch items
	 * are not subject to the per-minute limits or the concurrency limit of online
	 * requests (their pace is the dispatcher's room). End the permit as any other.
	 * @param tenant the tenant
	 * @param tier the batch's tier
	 * @param model the model
	 * @param promptTokens estimated prompt tokens
	 * @param maxTokens completion tokens the item may generate
	 * @return the permit
	 * @throws QuotaException.Exceeded (429 {@code insufficient_quota}) when the monthly
	 * budget is spent
	 * @throws QuotaException.Unavailable when Redis cannot be reached
	 */
	public QuotaPermit admitBatch(Tenant tenant, Tier tier, String model, long promptTokens, long maxTokens) {
		long prompt = Math.max(0, promptTokens);
		long reserve = prompt + Math.max(0, maxTokens);
		String requestId = RequestIds.next();
		if (tenant.limits().monthlyTokenBudget() == null && recordsAfterTheAnswer()) {
			return admitUnchecked(tenant, tier, model, requestId, prompt, reserve, true);
		}
		QuotaDecision decision;
		try {
			boolean settling = settling(tenant);
			decision = admitBatchInRedis(tenant, requestId, reserve);
			if (settling && refundMayAdmit(decision)) {
				decision = admitBatchInRedis(tenant, requestId, reserve);
			}
		}
		catch (RuntimeException ex) {
			count(tier, "unavailable", "none");
			throw new QuotaException.Unavailable(this.properties.retryAfter());
		}
		if (!decision.admitted()) {
			count(tier, "rejected", decision.limit());
			throw new QuotaException.Exceeded(decision.limit(), message(decision.limit(), tenant, reserve),
					decision.retryAfter(), Map.of());
		}
		count(tier, "admitted", "none");
		QuotaPermit permit = new QuotaPermit(this, tenant, tier, model, requestId, prompt, reserve, false, true,
				Map.of(), decision.month());
		this.running.put(requestId, permit);
		return permit;
	}

	private QuotaDecision admitBatchInRedis(Tenant tenant, String requestId, long reserve) {
		List<?> result = this.scripts.execute(ADMIT, keys(tenant.id(), true).subList(0, 5), requestId,
				Long.toString(reserve), "-1", "-1", "-1", limit(tenant.limits().monthlyTokenBudget()),
				Long.toString(this.properties.leaseTtl().toMillis()), Long.toString(WINDOW_MS));
		boolean admitted = ((Number) result.get(0)).longValue() == 1;
		return new QuotaDecision(admitted, admitted ? null : (String) result.get(1),
				admitted ? null : Duration.ofMillis(((Number) result.get(2)).longValue()), -1, -1, month(result));
	}

	/**
	 * Whether this replica has handed over settlements of the tenant that Redis may not
	 * have applied yet. Asked before admission: asked after a refusal, it could miss one
	 * applied in between, after the admission script read the lease it holds.
	 */
	private boolean settling(Tenant tenant) {
		return this.settlements != null && this.settlements.pending(tenant.id());
	}

	/**
	 * Whether a refused admission may pass once this replica's settlements of the tenant
	 * are applied (they release leases and refund tokens), after waiting for them. So a
	 * client that sends its next request as soon as the last one answered is not refused
	 * for a lease this replica had not released yet.
	 */
	private boolean refundMayAdmit(QuotaDecision decision) {
		if (decision.admitted()) {
			return false;
		}
		return switch (decision.limit()) {
			case "max_concurrent", "tokens_per_minute", "monthly_token_budget" -> this.settlements.flush(FLUSH_TIMEOUT);
			default -> false;
		};
	}

	/**
	 * Admits a request against its tenant's limits, or refuses it without consuming
	 * anything.
	 * @param tenant the tenant, with its limits
	 * @param tier the request's tier
	 * @param model the model asked for (recorded with the usage)
	 * @param promptTokens estimated prompt tokens
	 * @param maxTokens completion tokens the request may generate (the caller applies its
	 * default when the request names none)
	 * @return the permit, to be ended exactly once when the request ends
	 * @throws QuotaException.Exceeded (429) if a limit would be exceeded
	 * @throws QuotaException.Unavailable (503) if Redis is unavailable and the tier fails
	 * closed
	 */
	public QuotaPermit admit(Tenant tenant, Tier tier, String model, long promptTokens, long maxTokens) {
		long prompt = promptTokens;
		long reserve = reservation(promptTokens, maxTokens);
		String requestId = RequestIds.next();
		if (!tenant.limits().checkedOnAdmission() && recordsAfterTheAnswer()) {
			return admitUnchecked(tenant, tier, model, requestId, prompt, reserve, false);
		}
		QuotaDecision decision = null;
		boolean local = false;
		if (this.circuit.allow()) {
			try {
				boolean settling = settling(tenant);
				decision = admitInRedis(tenant, requestId, reserve);
				if (settling && refundMayAdmit(decision)) {
					decision = admitInRedis(tenant, requestId, reserve);
				}
				this.circuit.success();
			}
			catch (RuntimeException ex) {
				this.circuit.failure(ex);
			}
		}
		if (decision == null) {
			if (this.properties.outagePolicy().get(tier) != QuotaProperties.OutagePolicy.FAIL_OPEN) {
				count(tier, "unavailable", "none");
				throw new QuotaException.Unavailable(this.properties.retryAfter());
			}
			decision = this.local.admit(tenant, requestId, reserve);
			local = true;
		}
		Map<String, String> headers = headers(tenant.limits(), decision);
		if (!decision.admitted()) {
			count(tier, local ? "rejected_local" : "rejected", decision.limit());
			throw new QuotaException.Exceeded(decision.limit(), message(decision.limit(), tenant, reserve),
					decision.retryAfter(), headers);
		}
		count(tier, local ? "admitted_local" : "admitted", "none");
		QuotaPermit permit = new QuotaPermit(this, tenant, tier, model, requestId, prompt, reserve, local, false,
				headers, decision.month());
		if (!local) {
			this.running.put(requestId, permit);
		}
		return permit;
	}

	/**
	 * Whether an admission with nothing to check can be recorded after the answer: there
	 * is a settling thread to hand it to, and Redis answers (otherwise the outage policy
	 * decides, as for any admission).
	 */
	private boolean recordsAfterTheAnswer() {
		return this.settlements != null && this.circuit.state() == QuotaBackendCircuit.State.CLOSED;
	}

	/**
	 * Admits a request that no limit can refuse without a round trip to Redis, and hands
	 * its admission to the settling thread, which records it before the request's end
	 * (both exactly once).
	 */
	private QuotaPermit admitUnchecked(Tenant tenant, Tier tier, String model, String requestId, long prompt,
			long reserve, boolean batch) {
		// The month is the replica's; the script charges Redis's, and this one is used
		// only if the in-flight record is gone when the request ends.
		QuotaPermit permit = new QuotaPermit(this, tenant, tier, model, requestId, prompt, reserve, false, batch,
				Map.of(), YearMonth.now(this.utc).toString());
		this.running.put(requestId, permit);
		SettlementJournal.Settlement admission = SettlementJournal.Settlement.admission(tenant.id(), batch, requestId,
				reserve);
		if (!this.settlements.submit(admission)) {
			settleGroup(List.of(admission));
		}
		count(tier, "admitted_unchecked", "none");
		return permit;
	}

	/**
	 * The tokens a request reserves, computed so that no input can wrap around.
	 * @throws InvalidReservationException (400) when a count is negative or the sum is
	 * beyond {@link #MAX_RESERVATION}
	 */
	static long reservation(long promptTokens, long maxTokens) {
		if (promptTokens < 0) {
			throw new InvalidReservationException("prompt",
					"The prompt's token count cannot be negative, was " + promptTokens + ".");
		}
		if (maxTokens < 0) {
			throw new InvalidReservationException("max_tokens",
					"'max_tokens' cannot be negative, was " + maxTokens + ".");
		}
		try {
			long reserve = Math.addExact(promptTokens, maxTokens);
			if (reserve <= MAX_RESERVATION) {
				return reserve;
			}
		}
		catch (ArithmeticException ex) {
			// beyond any limit: refused below
		}
		throw new InvalidReservationException("max_tokens", "'max_tokens' (" + maxTokens
				+ ") plus the prompt's tokens is more than the largest reservation, " + MAX_RESERVATION + ".");
	}

	private QuotaDecision admitInRedis(Tenant tenant, String requestId, long reserve) {
		Limits limits = tenant.limits();
		List<?> result = this.scripts.execute(ADMIT, keys(tenant.id()).subList(0, 5), requestId, Long.toString(reserve),
				limit(limits.requestsPerMinute()), limit(limits.tokensPerMinute()), limit(limits.maxConcurrent()),
				limit(limits.monthlyTokenBudget()), Long.toString(this.properties.leaseTtl().toMillis()),
				Long.toString(WINDOW_MS));
		if (result == null || result.size() < 5) {
			throw new IllegalStateException("Unexpected answer from the admission script: " + result);
		}
		boolean admitted = ((Number) result.get(0)).longValue() == 1;
		return new QuotaDecision(admitted, admitted ? null : (String) result.get(1),
				admitted ? null : Duration.ofMillis(((Number) result.get(2)).longValue()),
				((Number) result.get(3)).longValue(), ((Number) result.get(4)).longValue(), month(result));
	}

	private static String month(List<?> admitResult) {
		return (admitResult.size() > 5 && admitResult.get(5) instanceof String month) ? month : null;
	}

	private static String limit(Long value) {
		return (value != null) ? Long.toString(value) : "-1";
	}

	private static Map<String, String> headers(Limits limits, QuotaDecision decision) {
		Map<String, String> headers = new LinkedHashMap<>();
		if (limits.requestsPerMinute() != null) {
			headers.put("x-ratelimit-limit-requests", Long.toString(limits.requestsPerMinute()));
			headers.put("x-ratelimit-remaining-requests", Long.toString(Math.max(0, decision.requestsRemaining())));
		}
		if (limits.tokensPerMinute() != null) {
			headers.put("x-ratelimit-limit-tokens", Long.toString(limits.tokensPerMinute()));
			headers.put("x-ratelimit-remaining-tokens", Long.toString(Math.max(0, decision.tokensRemaining())));
		}
		if (!decision.admitted()) {
			headers.put("x-tiergate-quota-limit", decision.limit());
		}
		return headers;
	}

	private static String message(String limit, Tenant tenant, long reserve) {
		Limits limits = tenant.limits();
		return switch (limit) {
			case "requests_per_minute" -> "Rate limit reached on requests per minute (RPM): limit "
					+ limits.requestsPerMinute() + ". Retry after the Retry-After delay.";
			case "tokens_per_minute" -> (reserve > limits.tokensPerMinute())
					? "Request too large for tokens per minute (TPM): it reserves " + reserve
							+ " tokens (prompt estimate + max_tokens), the limit is " + limits.tokensPerMinute() + "."
					: "Rate limit reached on tokens per minute (TPM): limit " + limits.tokensPerMinute()
							+ ", this request reserves " + reserve + ".";
			case "max_concurrent" -> "Too many concurrent requests: limit " + limits.maxConcurrent() + ".";
			default -> "Monthly token budget exhausted: budget " + limits.monthlyTokenBudget()
					+ " tokens, this request reserves " + reserve + ".";
		};
	}

	private void count(Tier tier, String decision, String limit) {
		this.decisions
			.computeIfAbsent(new DecisionKey(tier, decision, limit),
					(key) -> Counter.builder("tiergate.quota.decisions")
						.description("Quota admission decisions")
						.tag("tier", key.tier().name())
						.tag("decision", key.decision())
						.tag("limit", key.limit())
						.register(this.meters))
			.increment();
	}

	private record DecisionKey(Tier tier, String decision, String limit) {
	}

	void end(QuotaPermit permit, long promptTokens, long completionTokens, boolean record) {
		this.running.remove(permit.requestId());
		if (permit.local()) {
			this.local.finish(permit.tenant().id(), permit.requestId(), record ? promptTokens + completionTokens : 0);
			return;
		}
		SettlementJournal.Settlement settlement = new SettlementJournal.Settlement(permit.tenant().id(), permit.batch(),
				permit.requestId(), promptTokens, completionTokens, permit.tier().name(),
				permit.model().replace('|', '_'), record, permit.reserved(), permit.month(), permit.hosted());
		if (this.settlements != null && this.settlements.submit(settlement)) {
			return;
		}
		settleGroup(List.of(settlement));
	}

	/**
	 * Applies the settlements handed to the {@link SettlementBatcher}: one call per
	 * tenant (a Redis Cluster keeps a tenant's keys in one slot, never several tenants'),
	 * in the order they ended. What Redis does not confirm is journaled; a call Redis
	 * refuses is retried one settlement at a time, so that one bad settlement costs only
	 * itself.
	 */
	private void settleAll(List<SettlementJournal.Settlement> ended) {
		this.settlementBatches.record(ended.size());
		Map<String, List<SettlementJournal.Settlement>> byKeys = new LinkedHashMap<>();
		for (SettlementJournal.Settlement settlement : ended) {
			byKeys
				.computeIfAbsent(settlement.tenantId() + (settlement.batch() ? "|batch" : ""), (k) -> new ArrayList<>())
				.add(settlement);
		}
		byKeys.values().forEach(this::settleGroup);
	}

	/**
	 * Applies settlements of one tenant (and kind) in one call, or journals them when the
	 * circuit is open or Redis does not confirm them. Nothing passes what is journaled: a
	 * request's end must not reach Redis before its admission, which may be in the
	 * journal.
	 */
	private void settleGroup(List<SettlementJournal.Settlement> group) {
		if (this.journal.size() > 0) {
			replayJournal();
		}
		if (this.journal.size() > 0 || !this.circuit.allow()) {
			group.forEach(this.journal::add);
			return;
		}
		try {
			settle(group);
			this.circuit.success();
		}
		catch (RuntimeException ex) {
			this.circuit.failure(ex);
			if (QuotaBackendCircuit.storeFailure(ex)) {
				// Some may have been applied and the answer lost: the script settles
				// once.
				group.forEach(this.journal::add);
			}
			else {
				group.forEach(this::settleAlone);
			}
		}
	}

	private void settleAlone(SettlementJournal.Settlement settlement) {
		try {
			settle(settlement);
		}
		catch (RuntimeException ex) {
			if (QuotaBackendCircuit.storeFailure(ex)) {
				this.journal.add(settlement);
			}
			else {
				logger.warn("Settlement of {} refused: {}", settlement.requestId(), ex.toString());
			}
		}
	}

	/**
	 * Applies one settlement in Redis, exactly once however often it is called.
	 */
	void settle(SettlementJournal.Settlement settlement) {
		settle(List.of(settlement));
	}

	/**
	 * Applies settlements of one tenant (and kind, online or batch) in one call, each
	 * exactly once however often it is called.
	 */
	private void settle(List<SettlementJournal.Settlement> group) {
		SettlementJournal.Settlement first = group.get(0);
		Object[] args = new Object[2 + 10 * group.size()];
		args[0] = Long.toString(settledMemoryMillis());
		args[1] = Long.toString(this.properties.leaseTtl().toMillis());
		int i = 2;
		for (SettlementJournal.Settlement settlement : group) {
			args[i++] = settlement.admission() ? "a" : "s";
			args[i++] = settlement.requestId();
			args[i++] = Long.toString(settlement.promptTokens());
			args[i++] = Long.toString(settlement.completionTokens());
			args[i++] = settlement.tier();
			args[i++] = settlement.model();
			args[i++] = settlement.record() ? "1" : "0";
			args[i++] = Long.toString(settlement.reserved());
			args[i++] = (settlement.month() != null) ? settlement.month() : "";
			args[i++] = settlement.hosted() ? "1" : "0";
		}
		this.scripts.execute(SETTLE, keys(first.tenantId(), first.batch()), args);
	}

	/**
	 * Waits (briefly) for the settlements this replica has handed over so far, so that
	 * what is read next includes them.
	 */
	private void flushSettlements() {
		if (this.settlements != null) {
			this.settlements.flush(FLUSH_TIMEOUT);
		}
	}

	/**
	 * How long Redis remembers a settlement, so that a replay whose first answer was lost
	 * is not applied twice: longer than a replay takes to follow Redis's return (the
	 * journal is replayed at the next lease renewal, a third of the lease's life).
	 */
	private long settledMemoryMillis() {
		return Math.max(60_000, 2 * this.properties.leaseTtl().toMillis());
	}

	/**
	 * Replays the settlements journaled while Redis was unavailable, in order, each once;
	 * stops at the first Redis does not confirm. Runs with the lease renewals.
	 */
	void replayJournal() {
		if (this.journal.size() == 0 || !this.circuit.allow()) {
			return;
		}
		boolean[] reported = new boolean[1];
		int applied = this.journal.replay((settlement) -> {
			try {
				settle(settlement);
				return SettlementJournal.Replay.APPLIED;
			}
			catch (RuntimeException ex) {
				if (!reported[0]) {
					reported[0] = true;
					this.circuit.failure(ex);
				}
				if (QuotaBackendCircuit.storeFailure(ex)) {
					return SettlementJournal.Replay.KEEP;
				}
				logger.warn("Journaled settlement of {} refused: {}", settlement.requestId(), ex.toString());
				return SettlementJournal.Replay.REFUSED;
			}
		});
		if (!reported[0]) {
			this.circuit.success();
		}
		if (applied > 0) {
			logger.info("Quota store answers again: {} journaled settlements applied", applied);
		}
	}

	/**
	 * Settlements waiting for Redis in this replica's journal.
	 * @return the count
	 */
	int journaled() {
		flushSettlements();
		return this.journal.size();
	}

	/**
	 * Renews the leases of every request this replica is running, one call per tenant.
	 */
	void renewLeases() {
		replayJournal();
		if (this.running.isEmpty() || !this.circuit.allow()) {
			return;
		}
		Map<List<String>, List<String>> byTenant = new HashMap<>();
		this.running.values()
			.forEach((p) -> byTenant
				.computeIfAbsent(keys(p.tenant().id(), p.batch()).subList(2, 4), (k) -> new ArrayList<>())
				.add(p.requestId()));
		try {
			byTenant.forEach((leaseKeys, ids) -> {
				List<String> args = new ArrayList<>(ids.size() + 1);
				args.add(Long.toString(this.properties.leaseTtl().toMillis()));
				args.addAll(ids);
				this.scripts.execute(RENEW, leaseKeys, args.toArray());
			});
			this.circuit.success();
		}
		catch (RuntimeException ex) {
			this.circuit.failure(ex);
		}
	}

	/**
	 * Whether quotas are enforced in Redis now, or the outage policies apply.
	 * @return {@code redis} or {@code fallback}
	 */
	public String mode() {
		return (this.circuit.state() == QuotaBackendCircuit.State.CLOSED) ? "redis" : "fallback";
	}

	/**
	 * A tenant's live counters.
	 * @param tenantId the tenant
	 * @return its counters, on Redis's clock
	 */
	public QuotaStatus status(String tenantId) {
		flushSettlements();
		List<?> result = this.scripts.execute(STATUS, keys(tenantId).subList(0, 5), Long.toString(WINDOW_MS),
				YearMonth.now(this.clock).toString());
		return new QuotaStatus(((Number) result.get(0)).longValue(), ((Number) result.get(1)).longValue(),
				((Number) result.get(2)).longValue(), ((Number) result.get(3)).longValue());
	}

	/**
	 * A tenant's usage in one month, by day, tier and model (kept after the tenant is
	 * deleted).
	 * @param tenantId the tenant
	 * @param month the month (UTC)
	 * @return the records, by day, tier and model
	 */
	public List<UsageRecord> usage(String tenantId, YearMonth month) {
		if (!tenantId.matches(Tenant.ID_PATTERN)) {
			return List.of();
		}
		flushSettlements();
		Map<String, long[]> rows = new HashMap<>();
		Map<String, double[]> gpu = new HashMap<>();
		this.redis.opsForHash().entries(key(tenantId, "usage:" + month)).forEach((field, value) -> {
			String name = (String) field;
			int last = name.lastIndexOf('|');
			String row = name.substring(0, last);
			String counter = name.substring(last + 1);
			if (counter.equals(GPU_SECONDS) || counter.equals(GPU_COST)) {
				gpu.computeIfAbsent(row, (k) -> new double[2])[counter.equals(GPU_SECONDS) ? 0 : 1] += Double
					.parseDouble((String) value);
				rows.computeIfAbsent(row, (k) -> new long[4]);
				return;
			}
			long[] counts = rows.computeIfAbsent(row, (k) -> new long[4]);
			long amount = Long.parseLong((String) value);
			switch (counter) {
				case "requests" -> counts[0] += amount;
				case "prompt" -> counts[1] += amount;
				case "completion" -> counts[2] += amount;
				case HOSTED -> counts[3] += amount;
				default -> {
				}
			}
		});
		List<UsageRecord> records = new ArrayList<>();
		double[] none = new double[2];
		rows.forEach((k, row) -> {
			double[] g = gpu.getOrDefault(k, none);
			String[] parts = k.split("\\|", 3);
			Tier.parse(parts[1])
				.ifPresent((tier) -> records.add(new UsageRecord(LocalDate.parse(parts[0]), tier, parts[2], row[0],
						row[1], row[2], g[0], g[1], row[3])));
		});
		records.sort(Comparator.comparing(UsageRecord::day)
			.thenComparing(UsageRecord::tier)
			.thenComparing(UsageRecord::model));
		return records;
	}

	/**
	 * Adds GPU-seconds to tenants' usage, in one pipelined round trip, beside their
	 * tokens ({@code <day>|<tier>|<model>|gpu_seconds} in the month's usage hash).
	 * Records of ids that are not tenant ids are dropped.
	 * @param usage GPU-seconds per tenant, day, tier and model
	 */
	public void addGpuSeconds(List<GpuSeconds> usage) {
		List<GpuSeconds> valid = usage.stream()
			.filter((u) -> u.tenant().matches(Tenant.ID_PATTERN) && u.seconds() > 0)
			.toList();
		if (valid.isEmpty()) {
			return;
		}
		this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
			for (GpuSeconds u : valid) {
				byte[] key = key(u.tenant(), "usage:" + YearMonth.from(u.day())).getBytes(StandardCharsets.UTF_8);
				String row = u.day() + "|" + u.tier() + "|" + u.model() + "|";
				connection.hashCommands()
					.hIncrBy(key, (row + GPU_SECONDS).getBytes(StandardCharsets.UTF_8), u.seconds());
				if (u.cost() > 0) {
					connection.hashCommands().hIncrBy(key, (row + GPU_COST).getBytes(StandardCharsets.UTF_8), u.cost());
				}
			}
			return null;
		});
	}

	/**
	 * GPU-seconds of one tenant on one day, tier and model.
	 *
	 * @param tenant tenant id
	 * @param day the UTC day
	 * @param tier the tier
	 * @param model the model
	 * @param seconds GPU-seconds to add
	 * @param cost their price in US dollars
	 */
	public record GpuSeconds(String tenant, LocalDate day, Tier tier, String model, double seconds, double cost) {

	}

	@Override
	public void close() {
		if (this.settlements != null) {
			this.settlements.close();
		}
		this.renewal.shutdownNow();
	}

}
