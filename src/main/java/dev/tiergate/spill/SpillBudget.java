package dev.tiergate.spill;

import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
 * <p>
 * Caps changed at run time are kept in Redis too, in the hash
 * {@code tg:spill:{spend}:caps} (micro-dollars: {@code global}, {@code tenant-default}
 * ({@code -1} for none) and {@code tenant:<id>}), so that they survive a restart and
 * every replica reserves against the same caps: the reservation script reads them there,
 * and the start-up caps ({@code tiergate.spill.*}) apply only while that hash does not
 * exist.
 */
public class SpillBudget {

	private static final long MICROS = 1_000_000;

	private static final Duration KEEP = Duration.ofDays(62);

	private static final RedisScript<Long> RESERVE = RedisScript.of("""
			-- KEYS[1] global counter, KEYS[2] tenant counter (micro-dollars), KEYS[3] the caps hash
			-- ARGV: amount, start-up global cap, start-up tenant cap (-1: none), ttl seconds, tenant id
			-- Returns 0 reserved, 1 global cap reached, 2 tenant cap reached, 3 spill off (global cap 0).
			local amount = tonumber(ARGV[1])
			local globalCap = tonumber(ARGV[2])
			local tenantCap = tonumber(ARGV[3])
			if redis.call('EXISTS', KEYS[3]) == 1 then
			  globalCap = tonumber(redis.call('HGET', KEYS[3], 'global') or '0')
			  tenantCap = tonumber(redis.call('HGET', KEYS[3], 'tenant:' .. ARGV[5])
			    or redis.call('HGET', KEYS[3], 'tenant-default') or '-1')
			end
			if globalCap <= 0 then
			  return 3
			end
			local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
			if spent + amount > globalCap then
			  return 1
			end
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

	private static final RedisScript<Long> REPLACE_CAPS = RedisScript.of("""
			-- KEYS[1] the caps hash; ARGV: field, value, field, value, ...
			redis.call('DEL', KEYS[1])
			redis.call('HSET', KEYS[1], unpack(ARGV))
			return 0
			""", Long.class);

	/** Where run-time caps are kept. */
	static final String CAPS_KEY = "tg:spill:{spend}:caps";

	private final StringRedisTemplate redis;

	/** The start-up caps, in force while Redis holds none. */
	private final SpillCaps startup;

	private final String capsKey;

	private final Clock clock;

	/**
	 * A budget on Redis.
	 * @param redis the template
	 * @param properties the start-up caps
	 * @param clock what decides the month
	 */
	public SpillBudget(StringRedisTemplate redis, SpillProperties properties, Clock clock) {
		this(redis, properties, clock, CAPS_KEY);
	}

	/**
	 * A budget on Redis whose run-time caps live at the given key (tests).
	 * @param redis the template
	 * @param properties the start-up caps
	 * @param clock what decides the month
	 * @param capsKey the caps hash, in the {@code {spend}} hash tag
	 */
	SpillBudget(StringRedisTemplate redis, SpillProperties properties, Clock clock, String capsKey) {
		this.redis = redis;
		this.startup = SpillCaps.of(properties);
		this.clock = clock;
		this.capsKey = capsKey;
	}

	/**
	 * The caps in force: those set at run time (kept in Redis), else the start-up caps.
	 * @return the caps
	 */
	public SpillCaps caps() {
		Map<Object, Object> stored = this.redis.opsForHash().entries(this.capsKey);
		if (stored.isEmpty()) {
			return this.startup;
		}
		double global = 0;
		Double tenantDefault = null;
		Map<String, Double> tenants = new TreeMap<>();
		for (Map.Entry<Object, Object> entry : stored.entrySet()) {
			String field = entry.getKey().toString();
			long micros = Long.parseLong(entry.getValue().toString());
			if (field.equals("global")) {
				global = dollars(micros);
			}
			else if (field.equals("tenant-default")) {
				tenantDefault = (micros < 0) ? null : dollars(micros);
			}
			else if (field.startsWith("tenant:")) {
				tenants.put(field.substring("tenant:".length()), dollars(micros));
			}
		}
		return new SpillCaps(global, tenantDefault, tenants);
	}

	/**
	 * Replaces the caps (spend so far is kept), in Redis, where every replica's
	 * reservations see them from now on and a restart finds them.
	 * @param caps validated caps
	 */
	public void replaceCaps(SpillCaps caps) {
		List<String> fields = new ArrayList<>();
		fields.add("global");
		fields.add(Long.toString(micros(caps.monthlyCap())));
		fields.add("tenant-default");
		fields.add((caps.tenantMonthlyCap() != null) ? Long.toString(micros(caps.tenantMonthlyCap())) : "-1");
		caps.tenantCaps().forEach((tenant, cap) -> {
			fields.add("tenant:" + tenant);
			fields.add(Long.toString(micros(cap)));
		});
		this.redis.execute(REPLACE_CAPS, List.of(this.capsKey), fields.toArray());
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
	 * @return {@link Reserved} to settle later, {@link Refused} naming the cap reached,
	 * or {@link Disabled} when the global cap is 0
	 */
	public Reservation reserve(String tenant, double dollars) {
		YearMonth month = month();
		long amount = micros(dollars);
		SpillCaps caps = this.startup;
		double tenantCap = caps.tenantCap(tenant);
		List<String> keys = new ArrayList<>(keys(month, tenant));
		keys.add(this.capsKey);
		Long result = this.redis.execute(RESERVE, keys, Long.toString(amount), Long.toString(micros(caps.monthlyCap())),
				Long.toString((tenantCap < 0) ? -1 : micros(tenantCap)), Long.toString(KEEP.toSeconds()), tenant);
		if (result != null && result == 3) {
			return new Disabled();
		}
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
		return tenantSpend(tenant, month());
	}

	/**
	 * What a tenant spent (and reserved) in a month.
	 * @param tenant the tenant id
	 * @param month the month (UTC)
	 * @return US dollars
	 */
	public double tenantSpend(String tenant, YearMonth month) {
		return read(keys(month, tenant).get(1));
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
		return (value != null) ? dollars(Long.parseLong(value)) : 0;
	}

	private static double dollars(long micros) {
		return micros / (double) MICROS;
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
	public sealed interface Reservation permits Reserved, Refused, Disabled {

	}

	/**
	 * Spill is off: the global cap in force is 0.
	 */
	public record Disabled() implements Reservation {

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
