package dev.tiergate.proxy;

import java.nio.charset.StandardCharsets;

import dev.tiergate.routing.Endpoint;
import dev.tiergate.tier.Tier;

/**
 * Adds vLLM's {@code priority} request field (the tier's {@link Tier#enginePriority()},
 * lower first) to a request body on its way to an engine that schedules by it, without
 * parsing the body again: the field is spliced in as the object's last member, so it wins
 * over any earlier {@code priority} (JSON parsers keep the last of duplicate keys). Which
 * engines take it: those whose pod starts vLLM with {@code --scheduling-policy priority}
 * (read from the pod, when {@code tiergate.proxy.priority-from-pods} is on), and the
 * models listed in {@code tiergate.proxy.priority-models}; other engines reject the
 * field.
 */
final class EnginePriorityStamp {

	private EnginePriorityStamp() {
	}

	/**
	 * Whether a request to this endpoint carries the field.
	 * @param properties the proxy settings
	 * @param endpoint the endpoint the request goes to
	 * @return {@code true} when its engine schedules by priority
	 */
	static boolean sends(ProxyProperties properties, Endpoint endpoint) {
		return properties.sendsPriority(endpoint.model())
				|| (properties.priorityFromPods() && endpoint.priorityScheduling());
	}

	/**
	 * The body with the tier's priority as its last member.
	 * @param body a JSON object
	 * @param tier the request's tier
	 * @return a new array, or {@code body} itself when it is not a JSON object
	 */
	static byte[] splice(byte[] body, Tier tier) {
		int end = body.length - 1;
		while (end >= 0 && isWhitespace(body[end])) {
			end--;
		}
		if (end < 1 || body[end] != '}') {
			return body;
		}
		int last = end - 1;
		while (last >= 0 && isWhitespace(body[last])) {
			last--;
		}
		if (last < 0) {
			return body;
		}
		byte[] field = (((body[last] == '{') ? "" : ",") + "\"priority\":" + tier.enginePriority())
			.getBytes(StandardCharsets.US_ASCII);
		byte[] result = new byte[body.length + field.length];
		System.arraycopy(body, 0, result, 0, end);
		System.arraycopy(field, 0, result, end, field.length);
		System.arraycopy(body, end, result, end + field.length, body.length - end);
		return result;
	}

	private static boolean isWhitespace(byte b) {
		return b == ' ' || b == '\n' || b == '\r' || b == '\t';
	}

}
