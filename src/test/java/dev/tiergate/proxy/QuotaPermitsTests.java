package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import dev.tiergate.requestlog.RequestLog;
import dev.tiergate.requestlog.RequestRecord;
import dev.tiergate.tier.Tier;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link QuotaPermits}' reading of an answer's usage as it passes: the
 * top-level {@code usage} of a JSON answer wherever it stands, nothing when it is absent,
 * nested or not an integer, nothing from what is not JSON; in a stream, the last event's
 * usage, else the events that carried text.
 */
class QuotaPermitsTests {

	private static final String JSON = "application/json";

	private static final String SSE = "text/event-stream";

	/** Tiergate's own prompt estimate, logged when the answer reports no usage. */
	private static final long ESTIMATE = 999;

	private final List<RequestRecord> logged = new ArrayList<>();

	private final QuotaPermits filter = new QuotaPermits(
			new StaticListableBeanFactory(Map.of("log", (RequestLog) this.logged::add))
				.getBeanProvider(RequestLog.class));

	/**
	 * The usage read from a JSON answer, written whole, in 7-byte and in 1-byte pieces.
	 */
	private static long[] usage(String answer) throws IOException {
		return usage(answer.getBytes(StandardCharsets.UTF_8));
	}

	private static long[] usage(byte[] answer) throws IOException {
		long[] whole = usage(JSON, answer, answer.length);
		assertThat(usage(JSON, answer, 7)).isEqualTo(whole);
		assertThat(usage(JSON, answer, 1)).isEqualTo(whole);
		return whole;
	}

	private static long[] usage(String contentType, byte[] answer, int piece) throws IOException {
		QuotaPermits.UsageCapture capture = new QuotaPermits.UsageCapture(new MockHttpServletResponse());
		capture.setContentType(contentType);
		ServletOutputStream out = capture.getOutputStream();
		for (int i = 0; i < answer.length; i += piece) {
			out.write(answer, i, Math.min(piece, answer.length - i));
		}
		return capture.usage();
	}

	/** The prompt and completion tokens the request log gets for a served stream. */
	private long[] logged(String stream, int piece) throws Exception {
		byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
		this.filter.doFilter(new MockHttpServletRequest("POST", "/v1/chat/completions"), new MockHttpServletResponse(),
				(request, response) -> {
					QuotaPermits.attachRecord((HttpServletRequest) request, new RequestRecord(Instant.EPOCH, "acme",
							Tier.P1, "m", "chat", true, 0, ESTIMATE, 0, 0, 0, 0, RequestRecord.FLEET));
					response.setContentType(SSE);
					for (int i = 0; i < bytes.length; i += piece) {
						response.getOutputStream().write(bytes, i, Math.min(piece, bytes.length - i));
					}
				});
		RequestRecord record = this.logged.removeLast();
		return new long[] { record.promptTokens(), record.completionTokens() };
	}

	private long[] logged(String stream) throws Exception {
		long[] whole = logged(stream, Integer.MAX_VALUE);
		assertThat(logged(stream, 5)).isEqualTo(whole);
		assertThat(logged(stream, 1)).isEqualTo(whole);
		return whole;
	}

	private static String choices(int count) {
		StringBuilder choices = new StringBuilder("[");
		for (int i = 0; i < count; i++) {
			choices.append((i > 0) ? "," : "")
				.append("{\"index\":")
				.append(i)
				.append(",\"message\":{\"role\":\"assistant\",\"content\":\"Answer ")
				.append(i)
				.append(": \\\"usage\\\": {\\\"prompt_tokens\\\": 1} — é 日本 😀\"},")
				.append("\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":-0.25,\"bytes\":[97]}]},")
				.append("\"finish_reason\":\"stop\"}");
		}
		return choices.append("]").toString();
	}

	@Test
	void usageAfterALargeChoicesArrayIsRead() throws Exception {
		String answer = "{\"id\":\"c-1\",\"object\":\"chat.completion\",\"choices\":" + choices(5_000)
				+ ",\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":30,\"total_tokens\":150,"
				+ "\"prompt_tokens_details\":{\"cached_tokens\":64}}}";
		assertThat(answer.length()).isGreaterThan(500_000);
		assertThat(usage(JSON, answer.getBytes(StandardCharsets.UTF_8), 8192)).containsExactly(120, 30);
		assertThat(usage(answer)).containsExactly(120, 30);
	}

	@Test
	void usageBeforeChoicesIsRead() throws Exception {
		assertThat(usage("{\"usage\":{\"completion_tokens\":30,\"prompt_tokens\":120},\"choices\":" + choices(50)
				+ ",\"model\":\"m\"}"))
			.containsExactly(120, 30);
	}

	@Test
	void aUsageNestedBelowTheTopLevelIsNotTheAnswersUsage() throws Exception {
		assertThat(usage("{\"choices\":[{\"index\":0,\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}]}"))
			.isNull();
		assertThat(usage("{\"x\":{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}},\"choices\":[]}")).isNull();
		assertThat(usage("{\"choices\":[{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}],"
				+ "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":8},"
				+ "\"x\":{\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":10}}}"))
			.containsExactly(7, 8);
	}

	@Test
	void whatIsNotJsonHasNoUsage() throws Exception {
		assertThat(usage("Internal Server Error")).isNull();
		assertThat(usage("<html><body>{\"usage\":{\"prompt_tokens\":1}}</body></html>")).isNull();
		assertThat(usage("   \r\n")).isNull();
		assertThat(usage("null")).isNull();
		assertThat(usage("[{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}]")).as("not an object").isNull();
		assertThat(usage("\"usage\"")).isNull();
	}

	@Test
	void aTruncatedAnswerHasNoUsageWhereverItIsCut() throws Exception {
		String answer = "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4},\"choices\":[{\"text\":\"a é\"}]}";
		assertThat(usage(answer)).containsExactly(3, 4);
		byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
		for (int length = 1; length < bytes.length; length++) {
			byte[] cut = Arrays.copyOf(bytes, length);
			assertThat(usage(JSON, cut, cut.length)).as("cut after %d bytes", length).isNull();
		}
	}

	@Test
	void moreAfterTheAnswerMakesItNotJson() throws Exception {
		assertThat(usage("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}} x")).isNull();
		assertThat(usage("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}{}")).isNull();
		assertThat(usage(" {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\n ")).containsExactly(3, 4);
	}

	@Test
	void promptTokensThatAreNotAnIntegerAreNoUsage() throws Exception {
		for (String value : List.of("3.0", "1e2", "\"3\"", "null", "true", "{}", "[3]", "99999999999999999999")) {
			assertThat(usage("{\"usage\":{\"prompt_tokens\":" + value + ",\"completion_tokens\":4}}")).as(value)
				.isNull();
		}
		assertThat(usage("{\"usage\":{\"completion_tokens\":4}}")).isNull();
		assertThat(usage("{\"usage\":null}")).isNull();
		assertThat(usage("{\"usage\":[1,2]}")).isNull();
		assertThat(usage("{\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":4}}")).containsExactly(-3, 4);
	}

	@Test
	void missingCompletionTokensAreZero() throws Exception {
		assertThat(usage("{\"usage\":{\"prompt_tokens\":3}}")).containsExactly(3, 0);
		assertThat(usage("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":null}}")).containsExactly(3, 0);
		assertThat(usage("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":\"x\"}}")).containsExactly(3, 0);
	}

	@Test
	void aRepeatedMemberCountsLastAsInATree() throws Exception {
		assertThat(usage("{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}"))
			.containsExactly(5, 6);
		assertThat(usage("{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"total_tokens\":5}}")).isNull();
		assertThat(usage("{\"usage\":{\"prompt_tokens\":1,\"prompt_tokens\":7}}")).containsExactly(7, 0);
	}

	@Test
	void bytesAreReadAsTheirUtf8TextWouldBe() throws Exception {
		byte[] notUtf8 = bytes("{\"choices\":[{\"text\":\"", new byte[] { (byte) 0xff, (byte) 0xc3 },
				"\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
		assertThat(usage(notUtf8)).as("a string with bytes that are not UTF-8 is still a string").containsExactly(3, 4);
		byte[] overlong = bytes("{\"", new byte[] { (byte) 0xc1, (byte) 0xb5 },
				"sage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
		assertThat(usage(overlong)).as("an overlong 'u' is not 'u'").isNull();
		byte[] bom = bytes("", new byte[] { (byte) 0xef, (byte) 0xbb, (byte) 0xbf },
				"{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
		assertThat(usage(bom)).as("a byte order mark is not JSON").isNull();
		assertThat(usage("{\"us\\u0061ge\":{\"prompt_tokens\":3,\"completion_tokens\":4}}")).containsExactly(3, 4);
	}

	@Test
	void anAnswerLargerThanTheLimitIsNotRead() throws Exception {
		String usage = "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4},\"x\":\"";
		byte[] answer = (usage + "a".repeat(8 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
		assertThat(usage(JSON, answer, 64 * 1024)).isNull();
	}

	private static byte[] bytes(String before, byte[] middle, String after) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
		out.writeBytes(middle);
		out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
		return out.toByteArray();
	}

	@Test
	void aStreamsUsageIsTheLastEventThatReportsOne() throws Exception {
		String stream = """
				data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"usage":null}

				data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}

				data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}

				data: {"id":"c","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}

				data: {"id":"c","choices":[],"usage":null}

				data: [DONE]

				""";
		assertThat(logged(stream)).containsExactly(12, 2);
		assertThat(logged(stream.replace("\n", "\r\n"))).as("CRLF").containsExactly(12, 2);
		assertThat(logged(stream.replace("data: ", "data:"))).containsExactly(12, 2);
	}

	@Test
	void withoutUsageAStreamCountsTheEventsThatCarriedText() throws Exception {
		String stream = """
				: keep-alive

				data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}

				data: {"choices":[{"index":0,"delta":{"content":"é"}}]}

				data: {"choices":[{"index":0,"delta":{"content":"日本"}}]}

				event: {"choices":[{"index":0,"delta":{"content":"not data"}}]}

				data: {"choices":[{"index":0,"delta":{"content":null}}]}

				data: {"choices":[{"index":0,"text":"a"}]}

				data: {"choices":[{"index":0,"text":""}]}

				data: {"choices":[{"index":0,"delta":{"content":"x"},"usage":{"prompt_tokens":1.5}}]}

				data: {"choices":[{"index":0,"delta":{"content":"y"},"usage":{"prompt_tokens":3}}]}

				data: [DONE]

				""";
		assertThat(logged(stream)).containsExactly(ESTIMATE, 5);
	}

	@Test
	void anEventWithBothEmptyAndNonEmptyContentIsNotCounted() throws Exception {
		assertThat(logged("data: {\"choices\":[{\"delta\":{\"content\":\"\"}},{\"delta\":{\"content\":\"a\"}}]}\n\n"))
			.containsExactly(ESTIMATE, 0);
	}

	@Test
	void aLineBeyondTheLongestInspectedIsReadOnlyUpToThatLength() throws Exception {
		String longLine = "data: {\"choices\":[{\"delta\":{\"content\":\"" + "a".repeat(300 * 1024)
				+ "\"}}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\n";
		assertThat(logged(longLine, 4096)).as("the usage is past the first 256 KB").containsExactly(ESTIMATE, 1);
		assertThat(logged(longLine + "data: {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}\n\n", 4096))
			.containsExactly(7, 1);
	}

}
