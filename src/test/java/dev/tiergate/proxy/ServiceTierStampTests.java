package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ServiceTierStamp}.
 */
class ServiceTierStampTests {

	private static final String CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n";

	private final ByteArrayOutputStream out = new ByteArrayOutputStream();

	private void feed(ServiceTierStamp stamp, String text) throws Exception {
		byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
		stamp.write(bytes, bytes.length, this.out);
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

}
