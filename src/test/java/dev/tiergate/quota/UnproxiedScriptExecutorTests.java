package dev.tiergate.quota;

import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.DefaultScriptExecutor;
import org.springframework.data.redis.core.script.RedisScript;

import dev.tiergate.LocalRedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The quota's scripts without a connection proxy, against the real Redis: the same
 * answers as Spring Data Redis's own executor, for a script Redis does not know yet
 * (EVALSHA refused, then EVAL) and one it knows, and inside a pipeline.
 */
class UnproxiedScriptExecutorTests {

	private final StringRedisTemplate redis = LocalRedis.template();

	private final String key = "tg:test:unproxied:" + UUID.randomUUID();

	@AfterEach
	void clean() {
		this.redis.delete(List.of(this.key, this.key + ":b"));
	}

	/** A script no other test has sent, so that Redis does not know its SHA. */
	private static <T> RedisScript<T> fresh(String body, Class<T> type) {
		return new DefaultRedisScript<>("-- " + UUID.randomUUID() + "\n" + body, type);
	}

	@Test
	void answersAsSpringDataRedisDoesForAnUnknownScriptThenAKnownOne() {
		RedisScript<List> script = fresh("""
				local n = redis.call('INCRBY', KEYS[1], ARGV[1])
				return {n, ARGV[2], {KEYS[2], 7}}
				""", List.class);
		UnproxiedScriptExecutor<String> unproxied = new UnproxiedScriptExecutor<>(this.redis);
		DefaultScriptExecutor<String> library = new DefaultScriptExecutor<>(this.redis);
		List<String> keys = List.of(this.key, this.key + ":b");
		assertThat(this.redis.execute((RedisCallback<Boolean>) (
				connection) -> connection.scriptingCommands().scriptExists(script.getSha1()).get(0)))
			.isFalse();
		List<Object> first = unproxied.execute(script, keys, "5", "héllo");
		assertThat(first).containsExactly(5L, "héllo", List.of(this.key + ":b", 7L));
		List<Object> second = unproxied.execute(script, keys, "2", "again");
		List<Object> third = library.execute(script, keys, "3", "again");
		assertThat(second).containsExactly(7L, "again", List.of(this.key + ":b", 7L));
		assertThat(third).containsExactly(10L, "again", List.of(this.key + ":b", 7L));
	}

	@Test
	void aLongAnswerAndAnErrorAsSpringDataRedisGivesThem() {
		RedisScript<Long> counter = fresh("return redis.call('INCR', KEYS[1])", Long.class);
		UnproxiedScriptExecutor<String> unproxied = new UnproxiedScriptExecutor<>(this.redis);
		assertThat(unproxied.execute(counter, List.of(this.key))).isEqualTo(1L);
		assertThat(unproxied.execute(counter, List.of(this.key))).isEqualTo(2L);
		RedisScript<Long> failing = fresh("return redis.error_reply('NOPE refused')", Long.class);
		assertThatThrownBy(() -> unproxied.execute(failing, List.of(this.key))).isInstanceOf(RedisSystemException.class)
			.hasRootCauseMessage("NOPE refused");
		assertThatThrownBy(() -> new DefaultScriptExecutor<>(this.redis).execute(failing, List.of(this.key)))
			.isInstanceOf(RedisSystemException.class)
			.hasRootCauseMessage("NOPE refused");
	}

	@Test
	void inAPipelineTheScriptIsSentWhole() {
		RedisScript<Long> counter = fresh("return redis.call('INCRBY', KEYS[1], ARGV[1])", Long.class);
		UnproxiedScriptExecutor<String> unproxied = new UnproxiedScriptExecutor<>(this.redis);
		List<Object> results = this.redis.executePipelined(new SessionCallback<Object>() {

			@Override
			public <K, V> Object execute(RedisOperations<K, V> operations) {
				// The template binds the pipelined connection to this thread.
				assertThat(unproxied.execute(counter, List.of(UnproxiedScriptExecutorTests.this.key), "4")).isNull();
				return null;
			}

		});
		assertThat(results).containsExactly(4L);
		assertThat(this.redis.opsForValue().get(this.key)).isEqualTo("4");
	}

}
