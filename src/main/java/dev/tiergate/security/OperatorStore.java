package dev.tiergate.security;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.quota.ApiKeys;

/**
 * Operators (people, with a password hash) and API tokens (CI, stored as a SHA-256 hash),
 * in Redis.
 * <p>
 * Layout: {@code tg:security:operators} (set of usernames),
 * {@code tg:security:operator:<username>} (hash: passwordHash, role);
 * {@code tg:security:tokens} (hash: name to token hash),
 * {@code tg:security:token:<sha256>} (hash: name, role, created), the lookup made on
 * every token-authenticated call.
 */
public class OperatorStore {

	private static final String OPERATORS = "tg:security:operators";

	private static final String TOKENS = "tg:security:tokens";

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
	 * A CI token as listed: never the token itself.
	 *
	 * @param name what it is for
	 * @param role what it may do
	 * @param created when it was made
	 */
	public record TokenInfo(String name, Role role, Instant created) {
	}

	/**
	 * Creates or replaces an operator.
	 * @param operator the operator, with an encoded password
	 */
	public void save(Operator operator) {
		this.redis.opsForHash()
			.putAll("tg:security:operator:" + operator.username(),
					Map.of("passwordHash", operator.passwordHash(), "role", operator.role().name()));
		this.redis.opsForSet().add(OPERATORS, operator.username());
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
		return Optional
			.of(new Operator(username, (String) fields.get("passwordHash"), Role.valueOf((String) fields.get("role"))));
	}

	/**
	 * All operators, by username.
	 * @return the operators
	 */
	public List<Operator> findAll() {
		Set<String> names = this.redis.opsForSet().members(OPERATORS);
		return (names == null) ? List.of() : names.stream().sorted().map(this::find).flatMap(Optional::stream).toList();
	}

	/**
	 * Removes an operator.
	 * @param username login name
	 * @return {@code false} if there was none
	 */
	public boolean delete(String username) {
		this.redis.opsForSet().remove(OPERATORS, username);
		return Boolean.TRUE.equals(this.redis.delete("tg:security:operator:" + username));
	}

	/**
	 * Makes a token for CI.
	 * @param name what it is for, unique
	 * @param role what it may do
	 * @return the token, shown once; empty if the name is taken
	 */
	public Optional<String> createToken(String name, Role role) {
		String token = ApiKeys.generate("tgo-");
		return addToken(token, name, role) ? Optional.of(token) : Optional.empty();
	}

	/**
	 * Registers a token chosen by the caller (the embedded default's demo token).
	 * Registering the same name again does nothing.
	 * @param token the token
	 * @param name what it is for
	 * @param role what it may do
	 * @return {@code false} if the name was taken
	 */
	public boolean addToken(String token, String name, Role role) {
		String hash = ApiKeys.hash(token);
		if (!Boolean.TRUE.equals(this.redis.opsForHash().putIfAbsent(TOKENS, name, hash))) {
			return false;
		}
		this.redis.opsForHash()
			.putAll("tg:security:token:" + hash,
					Map.of("name", name, "role", role.name(), "created", Long.toString(this.clock.millis())));
		return true;
	}

	/**
	 * The tokens, by name.
	 * @return name, role and creation time of each
	 */
	public List<TokenInfo> tokens() {
		List<TokenInfo> tokens = new ArrayList<>();
		this.redis.opsForHash().entries(TOKENS).forEach((name, hash) -> {
			List<Object> values = this.redis.opsForHash()
				.multiGet("tg:security:token:" + hash, List.of("role", "created"));
			if (values.get(0) != null) {
				tokens.add(new TokenInfo((String) name, Role.valueOf((String) values.get(0)),
						Instant.ofEpochMilli(Long.parseLong((String) values.get(1)))));
			}
		});
		tokens.sort(Comparator.comparing(TokenInfo::name));
		return tokens;
	}

	/**
	 * Revokes a token; it stops working on the next call, on every replica.
	 * @param name the token's name
	 * @return {@code false} if there was none
	 */
	public boolean revokeToken(String name) {
		Object hash = this.redis.opsForHash().get(TOKENS, name);
		if (hash == null) {
			return false;
		}
		this.redis.delete("tg:security:token:" + hash);
		this.redis.opsForHash().delete(TOKENS, name);
		return true;
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
