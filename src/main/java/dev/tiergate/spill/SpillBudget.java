package dev.tiergate.spill;

import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The monthly spill spend, global and per tenant, kept in Redis and exact under
 * concurrency: a request reserves its largest possible cost with one Lua script that
 * checks both caps and adds to both counters, or refuses; when the hosted answer ends it
 * is settled to its real cost. The counters are in micro-dollars, so sums are exact.
 * <p>
 * All counters share the hash tag {@code {spend}}: the global cap spans tenants, so a
 * reservation must see the global and the tenant's counter in one script, which Redis
 * Cluster allows only within one slot. Keys are {@code tg:spill:{spend}:<yyyy-MM>:global}
 * and {@code tg:spill:{spend}:<yyyy-MM>:tenant:<id>}, kept for 62 days.
 */
public class SpillBudget {

	private static final long MICROS = 1_000_000;

	private static final Duration KEEP = Duration.ofDays(62);

	private static final RedisScript<Long> RESERVE = RedisScript.of("""
			-- KEYS[1] global counter, KEYS[2] tenant counter (micro-dollars)
			-- ARGV: amount, global cap, tenant cap (-1: none), ttl seconds
			-- Returns 0 reserved, 1 global cap reached, 2 tenant cap reached.
			local amount = tonumber(ARGV[1])
			local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
			if spent + amount > tonumber(ARGV[2]) then
			  return 1
			end
			local tenantCap = tonumber(ARGV[3])
			if tenantCap >= 0 then
			  local tenantSpent = tonumber(redis.call('GET', KEYS[2]) or '0')
			  if tenantSpent + amount > tenantCap then
			    return 2
			  end
			end
			redis.call('INCRBY', KEYS[1], amount)
			redis.call('EXPIRE', KEYS[1], ARGV[4])
			redis.call('INCRBY', KEYS[2], amount)
			redis.call('EXPIRE', KEYS[2], ARGV[4])
			return 0
			""", Long.class);

	private static final RedisScript<Long> SETTLE = RedisScript.of("""
			-- KEYS as RESERVE; ARGV[1] the difference (real cost minus reserved), may be negative
			redis.call('INCRBY', KEYS[1], ARGV[1])
			redis.call('INCRBY', KEYS[2], ARGV[1])
			return 0
			""", Long.class);

	private final StringRedisTemplate redis;

	private final AtomicReference<SpillCaps> caps;

	private final Clock clock;

	/**
	 * A budget on Redis.
	 * @param redis the template
	 * @param properties the start-up caps
	 * @param clock what decides the month
	 */
	public SpillBudget(StringRedisTemplate redis, SpillProperties properties, Clock clock) {
		this.redis = redis;
		this.caps = new AtomicReference<>(SpillCaps.of(properties));
		this.clock = clock;
	}

	/**
	 * The caps in force.
	 * @return the caps
	 */
	public SpillCaps caps() {
		return this.caps.get();
	}

	/**
	 * Replaces the caps (spend so far is kept); reservations from now on see them.
	 * @param caps validated caps
	 * @return the caps before
	 */
	public SpillCaps replaceCaps(SpillCaps caps) {
		return this.caps.getAndSet(caps);
	}

	/**
	 * The month spend counts in now, in UTC.
	 * @return the month
	 */
	public YearMonth month() {
		return YearMonth.from(this.clock.instant().atZone(ZoneOffset.UTC));
	}

	/**
	 * Reserves a request's largest cost against the global and the tenant's cap.
	 * @param tenant the tenant id
	 * @param dollars the largest cost, US dollars
	 * @return {@link Reserved} to settle later, or {@link Refused} naming the cap reached
	 */
	public Reservation reserve(String tenant, double dollars) {
		YearMonth month = month();
		long amount = micros(dollars);
		SpillCaps caps = this.caps.get();
		double tenantCap = caps.tenantCap(tenant);
		Long result = this.redis.execute(RESERVE, keys(month, tenant), Long.toString(amount),
				Long.toString(micros(caps.monthlyCap())), Long.toString((tenantCap < 0) ? -1 : micros(tenantCap)),
				Long.toString(KEEP.toSeconds()));
		if (result == null || result != 0) {
			return new Refused((result != null && result == 2) ? Scope.TENANT : Scope.GLOBAL);
		}
		return new Reserved(tenant, month, amount);
	}

	/**
	 * Corrects a reservation to the real cost (refunds the difference, or charges it).
	 * Call once per reservation.
	 * @param reserved the reservation
	 * @param dollars the real cost, US dollars (0 when nothing was served)
	 * @return the real cost charged, in micro-dollars
	 */
	public long settle(Reserved reserved, double dollars) {
		long actual = micros(dollars);
		long difference = actual - reserved.micros();
		if (difference != 0) {
			this.redis.execute(SETTLE, keys(reserved.month(), reserved.tenant()), Long.toString(difference));
		}
		return actual;
	}

	/**
	 * What a tenant has spent (and reserved) this month.
	 * @param tenant the tenant id
	 * @return US dollars
	 */
	public double tenantSpend(String tenant) {
		return read(keys(month(), tenant).get(1));
	}

	/**
	 * What all tenants have spent (and reserved) this month.
	 * @return US dollars
	 */
	public double globalSpend() {
		return read(keys(month(), "").get(0));
	}

	private double read(String key) {
		String value = this.redis.opsForValue().get(key);
		return (value != null) ? Long.parseLong(value) / (double) MICROS : 0;
	}

	private static List<String> keys(YearMonth month, String tenant) {
		String prefix = "tg:spill:{spend}:" + month + ":";
		return List.of(prefix + "global", prefix + "tenant:" + tenant);
	}

	/** Dollars to micro-dollars, rounded up so that a reservation never undercounts. */
	static long micros(double dollars) {
		return (long) Math.ceil(dollars * MICROS - 1e-6);
	}

	/** Which cap refused a reservation. */
	public enum Scope {

		/** The cap on all tenants together. */
		GLOBAL,

		/** The tenant's own cap. */
		TENANT

	}

	/** What {@link #reserve} came to. */
	public sealed interface Reservation permits Reserved, Refused {

	}

	/**
	 * Reserved: the counters hold the amount until {@link #settle}.
	 *
	 * @param tenant the tenant
	 * @param month the month it counts in
	 * @param micros the amount, micro-dollars
	 */
	public record Reserved(String tenant, YearMonth month, long micros) implements Reservation {

	}

	/**
	 * A cap was reached.
	 *
	 * @param scope which
	 */
	public record Refused(Scope scope) implements Reservation {

	}

}
