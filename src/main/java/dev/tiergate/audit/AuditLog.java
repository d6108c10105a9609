package dev.tiergate.audit;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * Records changes in a Redis stream ({@code tg:audit:log} by default) and reads them
 * back, newest first.
 * <p>
 * The actor is the authenticated principal of the current thread when there is one, else
 * {@code system}; every module records its own changes here.
 */
public class AuditLog {

	/** Largest number of entries one query returns. */
	public static final int MAX_LIMIT = 1000;

	private final StringRedisTemplate redis;

	private final AuditProperties properties;

	private final Clock clock;

	public AuditLog(StringRedisTemplate redis, AuditProperties properties, Clock clock) {
		this.redis = redis;
		this.properties = properties;
		this.clock = clock;
	}

	/**
	 * Records a change made by the current principal.
	 * @param kind what kind of thing changed
	 * @param action what was done
	 * @param target the name of the thing
	 * @param before its state before, or {@code null}
	 * @param after its state after, or {@code null}
	 * @return the recorded entry
	 */
	public AuditEntry record(String kind, String action, String target, String before, String after) {
		return record(currentActor(), kind, action, target, before, after);
	}

	/**
	 * Records a change.
	 * @param actor who made it
	 * @param kind what kind of thing changed
	 * @param action what was done
	 * @param target the name of the thing
	 * @param before its state before, or {@code null}
	 * @param after its state after, or {@code null}
	 * @return the recorded entry
	 */
	public AuditEntry record(String actor, String kind, String action, String target, String before, String after) {
		Instant at = this.clock.instant();
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("at", Long.toString(at.toEpochMilli()));
		fields.put("actor", Objects.requireNonNullElse(actor, "system"));
		fields.put("kind", kind);
		fields.put("action", action);
		fields.put("target", target);
		fields.put("before", Objects.requireNonNullElse(before, ""));
		fields.put("after", Objects.requireNonNullElse(after, ""));
		RecordId id = this.redis.opsForStream().add(StreamRecords.newRecord().in(this.properties.key()).ofMap(fields));
		this.redis.opsForStream().trim(this.properties.key(), this.properties.maxEntries(), true);
		return entry((id != null) ? id.getValue() : "", fields);
	}

	/**
	 * Entries, newest first.
	 * @param kind only this kind, or {@code null} for all
	 * @param since only entries at or after this instant, or {@code null}
	 * @param until only entries before this instant, or {@code null}
	 * @param limit at most this many (capped at {@link #MAX_LIMIT})
	 * @return matching entries, newest first
	 */
	public List<AuditEntry> entries(String kind, Instant since, Instant until, int limit) {
		int max = Math.max(1, Math.min(limit, MAX_LIMIT));
		List<AuditEntry> result = new ArrayList<>();
		// Stream ids are the Redis server's time, entries carry Tiergate's clock: filter
		// on the recorded time, and
		// page backwards through the stream until enough entries match or it is
		// exhausted.
		String upper = null;
		int page = 500;
		while (result.size() < max) {
			Range<String> range = (upper == null) ? Range.unbounded()
					: Range.of(Range.Bound.unbounded(), Range.Bound.exclusive(upper));
			List<MapRecord<String, Object, Object>> records = this.redis.opsForStream()
				.reverseRange(this.properties.key(), range, Limit.limit().count(page));
			if (records == null || records.isEmpty()) {
				break;
			}
			for (MapRecord<String, Object, Object> record : records) {
				AuditEntry entry = entry(record.getId().getValue(), record.getValue());
				if ((kind == null || kind.isBlank() || kind.equals(entry.kind()))
						&& (since == null || !entry.at().isBefore(since))
						&& (until == null || entry.at().isBefore(until))) {
					result.add(entry);
					if (result.size() >= max) {
						break;
					}
				}
			}
			if (records.size() < page) {
				break;
			}
			upper = records.get(records.size() - 1).getId().getValue();
		}
		return result;
	}

	private static AuditEntry entry(String id, Map<?, ?> fields) {
		return new AuditEntry(id, Instant.ofEpochMilli(Long.parseLong(text(fields, "at", "0"))),
				text(fields, "actor", "system"), text(fields, "kind", ""), text(fields, "action", ""),
				text(fields, "target", ""), text(fields, "before", ""), text(fields, "after", ""));
	}

	private static String text(Map<?, ?> fields, String key, String fallback) {
		Object value = fields.get(key);
		return (value != null) ? value.toString() : fallback;
	}

	private static String currentActor() {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		return (authentication != null && authentication.isAuthenticated() && authentication.getName() != null)
				? authentication.getName() : "system";
	}

}
