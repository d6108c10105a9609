package dev.tiergate.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import jakarta.servlet.http.HttpServletRequest;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a request body without ever holding more than the configured limit, and the
 * fields of it the gateway checks.
 */
final class RequestBodies {

	private RequestBodies() {
	}

	static byte[] read(HttpServletRequest request, long limit) throws IOException {
		long declared = request.getContentLengthLong();
		if (declared > limit) {
			throw tooLarge(limit);
		}
		try (InputStream in = request.getInputStream()) {
			// With a declared length, one array of that size (Tomcat reads no further);
			// without, chunks of up to the limit.
			byte[] bytes = (declared >= 0) ? readWhole(in, declared)
					: in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
			if (bytes.length > limit) {
				throw tooLarge(limit);
			}
			if (bytes.length == 0) {
				throw OpenAiException.invalidRequest("invalid_json", "The request body is empty; send a JSON object.");
			}
			return bytes;
		}
	}

	/**
	 * Most bytes allocated up front for a declared length: an upstream's
	 * {@code Content-Length} is not checked against any limit, and a broken or hostile
	 * pod could declare gigabytes; a longer body grows as its bytes arrive.
	 */
	static final int PREALLOCATED_MAX = 1 << 20;

	/**
	 * Reads a body to its end: into one array of the declared length when there is one
	 * and it is at most {@link #PREALLOCATED_MAX} (no chunk buffers, no copy: most bodies
	 * here are a few hundred bytes), else in chunks.
	 * @param in the body
	 * @param declared its {@code Content-Length}, or {@code -1}
	 * @return the bytes
	 * @throws EOFException when the body ends before its declared length
	 * @throws IOException when reading fails
	 */
	static byte[] readWhole(InputStream in, long declared) throws IOException {
		if (declared < 0) {
			return in.readAllBytes();
		}
		byte[] bytes;
		int n;
		if (declared <= PREALLOCATED_MAX) {
			bytes = new byte[(int) declared];
			n = in.readNBytes(bytes, 0, bytes.length);
		}
		else {
			bytes = in.readAllBytes();
			n = bytes.length;
		}
		if (n < declared) {
			throw new EOFException("The body ended after " + n + " of its " + declared + " bytes");
		}
		return bytes;
	}

	/**
	 * The first characters of a request's prompt, what requests that share a KV-cache
	 * prefix have in common: chat messages in order (role and text), or a completion's
	 * {@code prompt}.
	 * @param body the request
	 * @param max characters wanted
	 * @return at most {@code max} characters, empty when there is no prompt
	 */
	static CharSequence promptPrefix(ObjectNode body, int max) {
		StringBuilder prefix = new StringBuilder();
		JsonNode messages = body.get("messages");
		if (messages != null && messages.isArray()) {
			for (JsonNode message : messages) {
				if (prefix.length() >= max) {
					break;
				}
				JsonNode role = message.get("role");
				prefix.append((role != null && role.isString()) ? role.asString() : "").append(':');
				JsonNode content = message.get("content");
				if (content != null && content.isString()) {
					prefix.append(content.asString());
				}
				else if (content != null && content.isArray()) {
					for (JsonNode part : content) {
						JsonNode text = part.get("text");
						if (text != null && text.isString()) {
							prefix.append(text.asString());
						}
					}
				}
				prefix.append('\n');
			}
		}
		JsonNode prompt = body.get("prompt");
		if (prompt != null && prompt.isString()) {
			prefix.append(prompt.asString());
		}
		else if (prompt != null && prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isString()) {
			prefix.append(prompt.get(0).asString());
		}
		return (prefix.length() > max) ? prefix.subSequence(0, max) : prefix;
	}

	private static OpenAiException tooLarge(long limit) {
		return new OpenAiException(413, "invalid_request_error", "request_too_large",
				"The request body is larger than the limit of " + limit + " bytes.");
	}

	/**
	 * The body as a JSON object.
	 * @param bytes the body
	 * @param json the mapper
	 * @return the object
	 * @throws OpenAiException 400 {@code invalid_json} if it is not a JSON object
	 */
	static ObjectNode parse(byte[] bytes, JsonMapper json) {
		JsonNode node;
		try {
			node = json.readTree(bytes);
		}
		catch (JacksonException ex) {
			throw OpenAiException.invalidRequest("invalid_json",
					"We could not parse the JSON body of your request: " + ex.getOriginalMessage());
		}
		if (node == null || !node.isObject()) {
			throw OpenAiException.invalidRequest("invalid_json", "The request body must be a JSON object.");
		}
		return (ObjectNode) node;
	}

	/**
	 * The {@code model} field, required.
	 * @param body the request
	 * @return the model's name
	 * @throws OpenAiException 400 if it is missing or not a non-empty string
	 */
	static String model(ObjectNode body) {
		JsonNode model = body.get("model");
		if (model == null || model.isNull()) {
			throw OpenAiException.invalidRequest("missing_model", "You must provide a model parameter.");
		}
		if (!model.isString() || model.asString().isBlank()) {
			throw OpenAiException.invalidRequest("invalid_model", "'model' must be a non-empty string.");
		}
		return model.asString();
	}

	/**
	 * Checks an embeddings request's {@code input}: a non-empty string, or a non-empty
	 * array (of strings, or of token ids or token arrays).
	 * @param body the request
	 * @throws OpenAiException 400 {@code missing_input} or {@code invalid_input}
	 */
	static void requireInput(ObjectNode body) {
		JsonNode input = body.get("input");
		if (input == null || input.isNull()) {
			throw OpenAiException.invalidRequest("missing_input", "You must provide an input parameter.");
		}
		if (input.isString() ? input.asString().isEmpty() : !(input.isArray() && !input.isEmpty())) {
			throw OpenAiException.invalidRequest("invalid_input",
					"'input' must be a non-empty string or a non-empty array of strings or token arrays.");
		}
	}

	/**
	 * The {@code stream} flag.
	 * @param body the request
	 * @return whether the caller asked for server-sent events
	 * @throws OpenAiException 400 if it is not a boolean
	 */
	static boolean stream(ObjectNode body) {
		JsonNode stream = body.get("stream");
		if (stream == null || stream.isNull()) {
			return false;
		}
		if (!stream.isBoolean()) {
			throw OpenAiException.invalidRequest("invalid_stream", "'stream' must be a boolean.");
		}
		return stream.booleanValue();
	}

}
