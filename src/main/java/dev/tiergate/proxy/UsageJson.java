package dev.tiergate.proxy;

import java.nio.charset.StandardCharsets;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/**
 * Reads the token counts of an answer's top-level {@code usage} object: its
 * {@code prompt_tokens} when that is an integer, with its {@code completion_tokens} as
 * {@link JsonNode#asLong(long) asLong(0)} reads them (0 when missing), or none when the
 * text is not JSON, is not one object, or has no such usage (a {@code usage} nested
 * elsewhere, in a choice say, does not count).
 * <p>
 * The bytes are parsed where they are, as a stream that skips every value but
 * {@code usage}: no tree of the whole answer, no String of it. Jackson reads some bytes
 * that are not UTF-8 (overlong forms) where Java's decoder reads U+FFFD, and detects
 * UTF-16 and UTF-32 by their zero bytes, so whatever the stream cannot read as the
 * decoded text would read (bytes that do not start with <code>'{'</code>, a parse error,
 * a {@code usage} that is not ASCII) is read the slow way: decoded, then
 * {@code readTree}.
 */
final class UsageJson {

	private static final JsonMapper json = JsonMapper.builder().build();

	/** Returned by {@link #inPlace} when the text must be decoded to be read. */
	static final long[] UNDECIDED = new long[0];

	private UsageJson() {
	}

	/**
	 * The usage of a JSON answer.
	 * @param bytes the answer, UTF-8
	 * @param length how many of the bytes are the answer
	 * @return prompt and completion tokens, or {@code null}
	 */
	static long[] ofAnswer(byte[] bytes, int length) {
		long[] usage = inPlace(bytes, 0, length);
		return (usage != UNDECIDED) ? usage : ofText(new String(bytes, 0, length, StandardCharsets.UTF_8));
	}

	/**
	 * The usage of an SSE event's data, the JSON after {@code data:} with the whitespace
	 * around it stripped.
	 * @param line the line's bytes, UTF-8
	 * @param from where the data starts
	 * @param to where the line ends (without its {@code \n})
	 * @return prompt and completion tokens, or {@code null}
	 */
	static long[] ofEventData(byte[] line, int from, int to) {
		long[] usage = inPlace(line, from, to);
		return (usage != UNDECIDED) ? usage : ofText(new String(line, from, to - from, StandardCharsets.UTF_8).strip());
	}

	private static long[] ofText(String text) {
		try {
			return tokens(json.readTree(text).path("usage"));
		}
		catch (JacksonException ex) {
			// not JSON: no usage
			return null;
		}
	}

	/**
	 * Reads the usage from the bytes where they are, when that reads what their decoded
	 * text would.
	 * @param bytes the bytes
	 * @param from where the JSON starts (whitespace may come first)
	 * @param to where it ends
	 * @return prompt and completion tokens, {@code null}, or {@link #UNDECIDED}
	 */
	static long[] inPlace(byte[] bytes, int from, int to) {
		int start = from;
		while (start < to && whitespace(bytes[start])) {
			start++;
		}
		// '{' then a zero byte would be read as UTF-16 or UTF-32
		if (to - start < 2 || bytes[start] != '{' || bytes[start + 1] == 0) {
			return UNDECIDED;
		}
		try (JsonParser parser = json.createParser(bytes, start, to - start)) {
			parser.nextToken();
			JsonNode usage = MissingNode.getInstance();
			// the top-level object's members; a repeated usage counts last, as in a tree
			while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
				if (!"usage".equals(parser.currentName())) {
					parser.nextToken();
					parser.skipChildren();
					continue;
				}
				long name = parser.currentTokenLocation().getByteOffset();
				parser.nextToken();
				usage = parser.readValueAsTree();
				if (!ascii(bytes, start + (int) name, start + (int) parser.currentLocation().getByteOffset())) {
					return UNDECIDED;
				}
			}
			// the object's end (anything else has thrown); more after it is not JSON
			return (parser.nextToken() != null) ? null : tokens(usage);
		}
		catch (JacksonException ex) {
			return UNDECIDED;
		}
	}

	private static long[] tokens(JsonNode usage) {
		JsonNode prompt = usage.path("prompt_tokens");
		if (!prompt.isIntegralNumber()) {
			return null;
		}
		return new long[] { prompt.asLong(), usage.path("completion_tokens").asLong(0) };
	}

	private static boolean whitespace(byte b) {
		return b == ' ' || b == '\t' || b == '\n' || b == '\r';
	}

	private static boolean ascii(byte[] bytes, int from, int to) {
		for (int i = from; i < to; i++) {
			if (bytes[i] < 0) {
				return false;
			}
		}
		return true;
	}

}
