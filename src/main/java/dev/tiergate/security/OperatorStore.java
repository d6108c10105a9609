package dev.tiergate.security;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.quota.ApiKeys;

/**
 * Operators (people, with a password hash) and API tokens (CI, stored as a SHA-256 hash), in Redis.
 * <p>
 * Layout: {@code tg:security:operator:<username>} (hash: passwordHash, role);
 * {@code tg:security:token:<sha256>} (hash: name, role, created).
 */
public class OperatorStore {

	private final StringRedisTemplate redis;

	private final Clock clock;

	public OperatorStore(StringRedisTemplate redis, Clock clock) {
		this.redis = redis;
		this.clock = clock;
	}

	/**
	 * An operator account.
	 *
	 * @param username login name
	 * @param passwordHash encoded password
	 * @param role what it may do
	 */
	public record Operator(String username, String passwordHash, Role role) {
	}

	/**
	 * A CI token.
	 *
	 * @param name what it is for
	 * @param role what it may do
	 */
	public record ApiToken(String name, Role role) {
	}

	/**
	 * Creates or replaces an operator.
	 * @param operator the operator, with an encoded password
	 */
	public void save(Operator operator) {
		this.redis.opsForHash()
			.putAll("tg:security:operator:" + operator.username(),
					Map.of("passwordHash", operator.passwordHash(), "role", operator.role().name()));
	}

	/**
	 * Finds an operator.
	 * @param username login name
	 * @return the operator, or empty
	 */
	public Optional<Operator> find(String username) {
		Map<Object, Object> fields = this.redis.opsForHash().entries("tg:security:operator:" + username);
		if (fields.isEmpty()) {
			return Optional.empty();
		}
		return Optional.of(new Operator(username, (String) fields.get("passwordHash"),
				Role.valueOf((String) fields.get("role"))));
	}

	/**
	 * Makes a token for CI.
	 * @param name what it is for
	 * @param role what it may do
	 * @return the token, shown once
	 */
	public String createToken(String name, Role role) {
		String token = ApiKeys.generate("tgo-");
		addToken(token, name, role);
		return token;
	}

	/**
	 * Registers a token chosen by the caller.
	 * @param token the token
	 * @param name what it is for
	 * @param role what it may do
	 */
	public void addToken(String token, String name, Role role) {
		this.redis.opsForHash()
			.putAll("tg:security:token:" + ApiKeys.hash(token),
					Map.of("name", name, "role", role.name(), "created", Long.toString(this.clock.millis())));
	}

	/**
	 * Finds the token presented by a caller.
	 * @param token the presented token
	 * @return its grant, or empty
	 */
	public Optional<ApiToken> authenticateToken(String token) {
		List<Object> values = this.redis.opsForHash()
			.multiGet("tg:security:token:" + ApiKeys.hash(token), List.of("name", "role"));
		if (values.get(0) == null || values.get(1) == null) {
			return Optional.empty();
		}
		return Optional.of(new ApiToken((String) values.get(0), Role.valueOf((String) values.get(1))));
	}

}
