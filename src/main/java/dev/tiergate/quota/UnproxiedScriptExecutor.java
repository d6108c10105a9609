package dev.tiergate.quota;

import java.util.List;

import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.DefaultScriptExecutor;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.serializer.RedisSerializer;

/**
 * Spring Data Redis's script executor (EVALSHA, then EVAL when Redis does not know the
 * script), run on the template's connection itself.
 * {@link RedisTemplate#execute(RedisScript, List, Object...)} hands its callback a JDK
 * proxy of the connection, built for each call so that the callback cannot close it: the
 * proxy's creation (the connection class's interfaces gathered into new sets) and the
 * reflective call through it were 2-4% of the front door's CPU samples, for the admission
 * script alone once per request (docs/benchmarks.md). The callback here is this class's
 * own and closes nothing.
 *
 * @param <K> the template's key type
 */
final class UnproxiedScriptExecutor<K> extends DefaultScriptExecutor<K> {

	private final RedisTemplate<K, ?> template;

	UnproxiedScriptExecutor(RedisTemplate<K, ?> template) {
		super(template);
		this.template = template;
	}

	@Override
	public <T> T execute(RedisScript<T> script, RedisSerializer<?> argsSerializer, RedisSerializer<T> resultSerializer,
			List<K> keys, Object... args) {
		return this.template.execute((RedisCallback<T>) (connection) -> {
			ReturnType returnType = ReturnType.fromJavaType(script.getResultType());
			byte[][] keysAndArgs = keysAndArgs(argsSerializer, keys, args);
			int keySize = (keys != null) ? keys.size() : 0;
			if (connection.isPipelined() || connection.isQueueing()) {
				// In a pipeline or transaction the answer comes later: send the script
				// itself, since its SHA may be unknown to Redis.
				connection.scriptingCommands().eval(scriptBytes(script), returnType, keySize, keysAndArgs);
				return null;
			}
			return eval(connection, script, returnType, keySize, keysAndArgs, resultSerializer);
		}, true);
	}

}
