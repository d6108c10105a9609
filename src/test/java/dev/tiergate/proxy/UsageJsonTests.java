package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletResponse;

import jakarta.servlet.ServletOutputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link UsageJson}: on answers made at random, whole or broken, it reads what
 * reading the whole decoded text as a tree read (the way it replaced, kept here as
 * {@link #reference}), and typical answers are read in place.
 */
class UsageJsonTests {

	private static final JsonMapper json = JsonMapper.builder().build();

	/** How usage was read before: the whole answer decoded, then a tree. */
	private static long[] reference(String text) {
		try {
			JsonNode usage = json.readTree(text).path("usage");
			if (usage.path("prompt_tokens").isIntegralNumber()) {
				return new long[] { usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(0) };
			}
		}
		catch (JacksonException ex) {
			// not JSON: no usage
		}
		return null;
	}

	/** How a stream's lines were read before: each line decoded, then searched. */
	private static long[] referenceStream(byte[] stream) {
		long[] usage = null;
		long events = 0;
		int start = 0;
		for (int i = 0; i < stream.length; i++) {
			if (stream[i] != '\n') {
				continue;
			}
			String line = new String(stream, start, i - start, StandardCharsets.UTF_8);
			start = i + 1;
			if (!line.startsWith("data:")) {
				continue;
			}
			if (line.contains("\"usage\"")) {
				long[] found = reference(line.substring(5).strip());
				if (found != null) {
					usage = found;
				}
			}
			if ((line.contains("\"content\":\"") && !line.contains("\"content\":\"\""))
					|| (line.contains("\"text\":\"") && !line.contains("\"text\":\"\""))) {
				events++;
			}
		}
		return (usage != null) ? new long[] { usage[0], usage[1], events } : new long[] { -1, -1, events };
	}

	@Test
	void randomAnswersAreReadAsTheirDecodedTextWasRead() {
		Random random = new Random(20261130);
		Answers answers = new Answers(random);
		int withUsage = 0;
		for (int i = 0; i < 30_000; i++) {
			byte[] answer = answers.next();
			long[] expected = reference(new String(answer, StandardCharsets.UTF_8));
			assertThat(UsageJson.ofAnswer(answer, answer.length)).as(() -> shown(answer)).isEqualTo(expected);
			withUsage += (expected != null) ? 1 : 0;
		}
		assertThat(withUsage).as("answers with a usage").isBetween(3_000, 27_000);
	}

	@Test
	void randomEventDataAreReadAsTheirDecodedStrippedTextWasRead() {
		Random random = new Random(7);
		Answers answers = new Answers(random);
		for (int i = 0; i < 30_000; i++) {
			byte[] data = answers.next();
			byte[] line = new byte[data.length + 6];
			System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, line, 0, 6);
			System.arraycopy(data, 0, line, 6, data.length);
			long[] expected = reference(new String(line, StandardCharsets.UTF_8).substring(5).strip());
			assertThat(UsageJson.ofEventData(line, 5, line.length)).as(() -> shown(line)).isEqualTo(expected);
		}
	}

	@Test
	void randomStreamsGiveTheUsageAndTextEventsTheirDecodedLinesGave() throws IOException {
		Random random = new Random(11);
		Answers answers = new Answers(random);
		List<String> others = List.of(": keep-alive", "", "\r", "event: message", "data: [DONE]", "id: 3", "data:",
				"data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}", "data: {\"choices\":[{\"text\":\"a\"}]}");
		for (int i = 0; i < 2_000; i++) {
			ByteArrayOutputStream stream = new ByteArrayOutputStream();
			int lines = random.nextInt(12);
			for (int l = 0; l < lines; l++) {
				if (random.nextInt(3) == 0) {
					stream.writeBytes(others.get(random.nextInt(others.size())).getBytes(StandardCharsets.UTF_8));
				}
				else {
					stream.writeBytes((random.nextBoolean() ? "data: " : "data:").getBytes(StandardCharsets.UTF_8));
					byte[] data = answers.next();
					for (byte b : data) {
						stream.write((b == '\n') ? ' ' : b);
					}
				}
				stream.writeBytes(random.nextBoolean() ? new byte[] { '\n' } : new byte[] { '\r', '\n' });
			}
			if (random.nextInt(4) == 0) {
				stream.writeBytes("data: {\"usage\":{\"prompt_tokens\":1}}".getBytes(StandardCharsets.UTF_8));
			}
			byte[] bytes = stream.toByteArray();
			QuotaPermits.UsageCapture capture = new QuotaPermits.UsageCapture(new MockHttpServletResponse());
			capture.setContentType("text/event-stream");
			ServletOutputStream out = capture.getOutputStream();
			for (int at = 0; at < bytes.length;) {
				int piece = Math.min(bytes.length - at, 1 + random.nextInt(64));
				out.write(bytes, at, piece);
				at += piece;
			}
			long[] usage = capture.usage();
			long[] actual = (usage != null) ? new long[] { usage[0], usage[1], capture.tokenEvents() }
					: new long[] { -1, -1, capture.tokenEvents() };
			assertThat(actual).as(() -> shown(bytes)).isEqualTo(referenceStream(bytes));
		}
	}

	@Test
	void typicalAnswersAreReadInPlace() {
		byte[] answer = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1764500000,\"model\":\"m\","
				+ "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Voilà — 日本語 😀\","
				+ "\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
				+ "\"usage\":{\"prompt_tokens\":21,\"total_tokens\":33,\"completion_tokens\":12,"
				+ "\"prompt_tokens_details\":null},\"prompt_logprobs\":null}")
			.getBytes(StandardCharsets.UTF_8);
		assertThat(UsageJson.inPlace(answer, 0, answer.length)).containsExactly(21, 12);
		byte[] event = ("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
				+ "\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":12,\"total_tokens\":33}}\r")
			.getBytes(StandardCharsets.UTF_8);
		assertThat(UsageJson.inPlace(event, 5, event.length)).containsExactly(21, 12);
		byte[] chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}"
			.getBytes(StandardCharsets.UTF_8);
		assertThat(UsageJson.inPlace(chunk, 5, chunk.length)).isNull();
	}

	private static String shown(byte[] bytes) {
		String text = new String(bytes, StandardCharsets.UTF_8);
		return ((text.length() > 400) ? text.substring(0, 400) + "..." : text) + " "
				+ Arrays.toString(Arrays.copyOf(bytes, Math.min(bytes.length, 64)));
	}

	/**
	 * OpenAI-shaped answers made at random, with usage objects of every shape, names and
	 * strings that are not ASCII or not UTF-8, and one in three broken: cut, a byte
	 * changed, inserted or removed, something before or after.
	 */
	private static final class Answers {

		private static final List<String> NAMES = List.of("usage", "usage", "choices", "id", "prompt_tokens",
				"completion_tokens", "content", "text", "model", "us\\u0061ge", "usagé", "");

		private static final List<String> NUMBERS = List.of("0", "-1", "12", "3.5", "1e3", "-0", "2.0",
				"9223372036854775807", "9223372036854775808", "12345678901234567890123", "1E-2");

		private static final List<String> TOKENS = List.of("0", "7", "120", "-3", "3.0", "1e2", "\"12\"", "\"x\"",
				"null", "true", "{}", "[1]", "9223372036854775807", "99999999999999999999", "4.9");

		private static final byte[][] ODD = { { (byte) 0xff }, { (byte) 0x80 }, { (byte) 0xc0, (byte) 0x80 },
				{ (byte) 0xc1, (byte) 0xb5 }, { (byte) 0xed, (byte) 0xa0, (byte) 0x80 }, { (byte) 0xe3, (byte) 0x81 },
				{ (byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80 }, { 0 }, { '\f' } };

		private static final byte[] INSERTED = { '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\f', 0, (byte) 0xff,
				(byte) 0x80, (byte) 0xc3, 'x', '1', '\r' };

		private final Random random;

		private final ByteArrayOutputStream out = new ByteArrayOutputStream();

		Answers(Random random) {
			this.random = random;
		}

		byte[] next() {
			this.out.reset();
			if (this.random.nextInt(10) == 0) {
				value(0);
			}
			else {
				object(0, true);
			}
			byte[] answer = this.out.toByteArray();
			return (this.random.nextInt(3) == 0) ? broken(answer) : answer;
		}

		private byte[] broken(byte[] answer) {
			int at = (answer.length == 0) ? 0 : this.random.nextInt(answer.length);
			ByteArrayOutputStream b = new ByteArrayOutputStream();
			switch (this.random.nextInt(8)) {
				case 0 -> b.write(answer, 0, at);
				case 1 -> {
					b.write(answer, 0, at);
					b.write(INSERTED[this.random.nextInt(INSERTED.length)]);
					b.write(answer, at, answer.length - at);
				}
				case 2 -> {
					b.write(answer, 0, at);
					b.write(answer, Math.min(at + 1, answer.length), answer.length - Math.min(at + 1, answer.length));
				}
				case 3 -> {
					byte[] changed = answer.clone();
					if (at < changed.length) {
						changed[at] = INSERTED[this.random.nextInt(INSERTED.length)];
					}
					return changed;
				}
				case 4 -> {
					b.writeBytes(List.of("\ufeff", "\f", " \r\n\t", "\u2028", "x")
						.get(this.random.nextInt(5))
						.getBytes(StandardCharsets.UTF_8));
					b.writeBytes(answer);
				}
				case 5 -> {
					b.writeBytes(answer);
					b.writeBytes(List.of("\f", " \r\n\t", "\u2028", "\u3000", " x", "{}", "\u00a0", "\u000b")
						.get(this.random.nextInt(8))
						.getBytes(StandardCharsets.UTF_8));
				}
				case 6 -> {
					b.writeBytes(answer);
					b.writeBytes(answer);
				}
				default -> {
					b.write(answer, 0, at);
					b.writeBytes(ODD[this.random.nextInt(ODD.length)]);
					b.write(answer, at, answer.length - at);
				}
			}
			return b.toByteArray();
		}

		private void object(int depth, boolean top) {
			write("{");
			int members = this.random.nextInt(top ? 6 : 4);
			int usage = -1;
			if (top && this.random.nextBoolean()) {
				members = Math.max(members, 1);
				usage = this.random.nextInt(members);
			}
			for (int i = 0; i < members; i++) {
				write((i > 0) ? "," : "");
				String name = (i == usage) ? "usage" : NAMES.get(this.random.nextInt(NAMES.size()));
				write("\"" + name + "\":");
				if (name.startsWith("us") && this.random.nextInt(4) != 0) {
					usage();
				}
				else if (name.equals("choices")) {
					choices(depth);
				}
				else {
					value(depth + 1);
				}
			}
			write("}");
		}

		private void usage() {
			write("{");
			int members = this.random.nextInt(5);
			for (int i = 0; i < members; i++) {
				write((i > 0) ? "," : "");
				switch (this.random.nextInt(6)) {
					case 0 -> write("\"prompt_tokens\":" + this.random.nextInt(5_000));
					case 1 -> write("\"prompt_tokens\":" + TOKENS.get(this.random.nextInt(TOKENS.size())));
					case 2, 3 -> write("\"completion_tokens\":" + TOKENS.get(this.random.nextInt(TOKENS.size())));
					case 4 -> write("\"total_tokens\":1");
					default -> write("\"prompt_tokens_details\":{\"cached_tokens\":0}");
				}
			}
			write("}");
		}

		private void choices(int depth) {
			write("[");
			int count = this.random.nextInt(4);
			for (int i = 0; i < count; i++) {
				write((i > 0) ? "," : "");
				object(depth + 1, false);
			}
			write("]");
		}

		private void value(int depth) {
			int kind = this.random.nextInt((depth > 4) ? 4 : 6);
			switch (kind) {
				case 0 -> string();
				case 1 -> write(NUMBERS.get(this.random.nextInt(NUMBERS.size())));
				case 2 -> write(List.of("true", "false", "null").get(this.random.nextInt(3)));
				case 3 -> write("\"\"");
				case 4 -> object(depth, false);
				default -> {
					write("[");
					int count = this.random.nextInt(4);
					for (int i = 0; i < count; i++) {
						write((i > 0) ? "," : "");
						value(depth + 1);
					}
					write("]");
				}
			}
		}

		private void string() {
			write("\"");
			int length = this.random.nextInt(12);
			for (int i = 0; i < length; i++) {
				int pick = this.random.nextInt(20);
				if (pick == 0) {
					this.out.writeBytes(ODD[this.random.nextInt(ODD.length - 2)]);
				}
				else {
					write(List
						.of("a", "b", " ", "\\\"", "\\\\", "\\n", "\\u00e9", "é", "日", "😀", "usage", "\\\"usage\\\"",
								"\\\"content\\\":\\\"x", "{", "}", "[", ":", ",", "\\/")
						.get(pick - 1));
				}
			}
			write("\"");
		}

		private void write(String text) {
			this.out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
		}

	}

}
