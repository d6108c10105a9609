package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ServiceTierStamp}.
 */
class ServiceTierStampTests {

	private static final String CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n";

	private static final String[] TEXTS = { "", "t", "t\u00e9", "\u65e5\u00e9", "\ud83d\ude80", "}{", "a}b{c" };

	private final ByteArrayOutputStream out = new ByteArrayOutputStream();

	private void feed(ServiceTierStamp stamp, String text) throws Exception {
		byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
		stamp.write(bytes, 0, bytes.length, this.out);
	}

	private String written() {
		return this.out.toString(StandardCharsets.UTF_8);
	}

	@Test
	void stampsEveryChunkAndLeavesOtherEventsAlone() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P0);
		feed(stamp, CHUNK + CHUNK + "data: [DONE]\n\n");
		stamp.finish(this.out);
		assertThat(written()).isEqualTo(
				("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"service_tier\":\"priority\"}\n\n")
					.repeat(2) + "data: [DONE]\n\n");
	}

	@Test
	void anEventSplitAcrossReadsIsWrittenWhenWholeAndNotBefore() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P2);
		feed(stamp, CHUNK.substring(0, 20));
		assertThat(written()).isEmpty();
		feed(stamp, CHUNK.substring(20) + CHUNK.substring(0, 5));
		assertThat(written()).endsWith(",\"service_tier\":\"flex\"}\n\n");
		feed(stamp, CHUNK.substring(5));
		assertThat(written().split("service_tier")).hasSize(3);
	}

	@Test
	void crlfEventsAndMultiByteTextSurvive() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P1);
		feed(stamp, "data: {\"object\":\"text_completion\",\"text\":\"h\u00e9llo \u2603\"}\r\n\r\n");
		assertThat(written()).isEqualTo(
				"data: {\"object\":\"text_completion\",\"text\":\"h\u00e9llo \u2603\",\"service_tier\":\"default\"}\r\n\r\n");
	}

	@Test
	void whatIsLeftAtTheEndIsPassedThrough() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P1);
		feed(stamp, ": keep-alive");
		stamp.finish(this.out);
		assertThat(written()).isEqualTo(": keep-alive");
	}

	@Test
	void aWholeAnswerGetsTheFieldSplicedIntoItsObject() {
		byte[] answer = "{\"id\":\"x\",\"choices\":[{\"index\":0}]}\n".getBytes(StandardCharsets.UTF_8);
		assertThat(new String(ServiceTierStamp.stampWhole(answer, Tier.P0), StandardCharsets.UTF_8))
			.isEqualTo("{\"id\":\"x\",\"choices\":[{\"index\":0}],\"service_tier\":\"priority\"}\n");
		assertThat(new String(ServiceTierStamp.stampWhole("{ }".getBytes(StandardCharsets.UTF_8), Tier.P2),
				StandardCharsets.UTF_8))
			.isEqualTo("{ \"service_tier\":\"flex\"}");
	}

	@Test
	void aWholeAnswerThatIsNotOneObjectOrHasTheFieldIsLeftToTheParser() {
		assertThat(ServiceTierStamp.stampWhole("[1,2]".getBytes(StandardCharsets.UTF_8), Tier.P0)).isNull();
		assertThat(ServiceTierStamp.stampWhole("{\"service_tier\":null}".getBytes(StandardCharsets.UTF_8), Tier.P0))
			.isNull();
		assertThat(ServiceTierStamp.stampWhole("not json".getBytes(StandardCharsets.UTF_8), Tier.P0)).isNull();
		assertThat(ServiceTierStamp.stampWhole(new byte[0], Tier.P0)).isNull();
	}

	@Test
	void aChunkLineWithoutItsCloseAndBytesThatAreNotUtf8PassUnchanged() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P0);
		byte[] odd = { 'd', 'a', 't', 'a', ':', ' ', '{', '"', 'x', '"', ':', '"', (byte) 0xc3, (byte) 0x28,
				(byte) 0xff, '"', '}', '\n', '\n' };
		String unclosed = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[\n\n";
		feed(stamp, unclosed);
		stamp.write(odd, 0, odd.length, this.out);
		byte[] expected = new byte[unclosed.length() + odd.length];
		System.arraycopy(unclosed.getBytes(StandardCharsets.UTF_8), 0, expected, 0, unclosed.length());
		System.arraycopy(odd, 0, expected, unclosed.length(), odd.length);
		assertThat(this.out.toByteArray()).as("byte for byte").isEqualTo(expected);
	}

	@Test
	void anEventThatNeverEndsIsPassedOnRatherThanHeldWithoutBound() throws Exception {
		ServiceTierStamp stamp = new ServiceTierStamp(Tier.P0);
		byte[] piece = "x".repeat(4096).getBytes(StandardCharsets.UTF_8);
		String start = "data: {\"object\":\"chat.completion.chunk\",\"c\":\"";
		feed(stamp, start);
		int fed = start.length();
		while (fed + piece.length <= ServiceTierStamp.MAX_PENDING) {
			stamp.write(piece, 0, piece.length, this.out);
			fed += piece.length;
		}
		assertThat(this.out.size()).as("held back while it may still end").isZero();
		stamp.write(piece, 0, piece.length, this.out);
		fed += piece.length;
		assertThat(this.out.size()).as("past the bound: everything so far passed on").isEqualTo(fed);
		assertThat(written()).startsWith(start).doesNotContain("service_tier");
		this.out.reset();
		feed(stamp, "\"}\n\n" + CHUNK);
		assertThat(written()).as("the rest of the long event as it is, then the next event stamped")
			.isEqualTo("\"}\n\n" + CHUNK.replace("[]}", "[],\"service_tier\":\"priority\"}"));
	}

	/**
	 * Streams of chunks, other events, comments, CRLF and multi-byte text, cut into reads
	 * at random places and passed from the middle of larger arrays (as the upstream
	 * connection's buffer lends them): what arrives is each event, whole, stamped where
	 * it is a chunk, and nothing is written before its event is whole.
	 */
	@Test
	void randomCutsGiveTheSameEventsAsOneRead() throws Exception {
		Random random = new Random(20261202L);
		for (int round = 0; round < 500; round++) {
			StringBuilder input = new StringBuilder();
			StringBuilder expected = new StringBuilder();
			int events = 1 + random.nextInt(12);
			for (int e = 0; e < events; e++) {
				String end = random.nextBoolean() ? "\n\n" : "\r\n\r\n";
				String text = TEXTS[random.nextInt(TEXTS.length)];
				switch (random.nextInt(4)) {
					case 0 -> {
						input.append("data: {\"object\":\"chat.completion.chunk\",\"c\":\"")
							.append(text)
							.append("\"}")
							.append(end);
						expected.append("data: {\"object\":\"chat.completion.chunk\",\"c\":\"")
							.append(text)
							.append("\",\"service_tier\":\"flex\"}")
							.append(end);
					}
					case 1 -> {
						String line = "data: {\"object\":\"text_completion\",\"t\":\"" + text + "\"}";
						input.append("event: x\n").append(line).append(end);
						expected.append("event: x\n")
							.append(line, 0, line.length() - 1)
							.append(",\"service_tier\":\"flex\"}")
							.append(end);
					}
					case 2 -> {
						input.append(": keep-alive ").append(text).append(end);
						expected.append(": keep-alive ").append(text).append(end);
					}
					default -> {
						input.append("data: {\"object\":\"other\",\"t\":\"").append(text).append("\"}").append(end);
						expected.append("data: {\"object\":\"other\",\"t\":\"").append(text).append("\"}").append(end);
					}
				}
			}
			byte[] bytes = input.toString().getBytes(StandardCharsets.UTF_8);
			ServiceTierStamp stamp = new ServiceTierStamp(Tier.P2);
			this.out.reset();
			int at = 0;
			while (at < bytes.length) {
				int n = Math.min(bytes.length - at, 1 + random.nextInt(90));
				int lead = random.nextInt(5);
				byte[] lent = new byte[lead + n + random.nextInt(5)];
				Arrays.fill(lent, (byte) '#');
				System.arraycopy(bytes, at, lent, lead, n);
				stamp.write(lent, lead, n, this.out);
				at += n;
				String sofar = written();
				assertThat(sofar).as("round %d: whole events only", round).matches("(?s)(|.*(\n\n|\r\n\r\n))");
				assertThat(expected.toString()).as("round %d", round).startsWith(sofar);
			}
			stamp.finish(this.out);
			assertThat(written()).as("round %d", round).isEqualTo(expected.toString());
		}
	}

}
