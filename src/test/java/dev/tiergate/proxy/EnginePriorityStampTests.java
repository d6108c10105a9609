package dev.tiergate.proxy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link EnginePriorityStamp}.
 */
class EnginePriorityStampTests {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static String splice(String body, Tier tier) {
		return new String(EnginePriorityStamp.splice(body.getBytes(StandardCharsets.UTF_8), tier),
				StandardCharsets.UTF_8);
	}

	@Test
	void thePriorityBecomesTheObjectsLastMember() {
		assertThat(splice("{\"model\":\"m\",\"stream\":true}", Tier.P2))
			.isEqualTo("{\"model\":\"m\",\"stream\":true,\"priority\":2}");
		assertThat(splice(" {\"model\":\"m\"} \n", Tier.P0)).isEqualTo(" {\"model\":\"m\",\"priority\":0} \n");
		assertThat(splice("{ }", Tier.P1)).isEqualTo("{ \"priority\":1}");
	}

	@Test
	void itWinsOverAPriorityAlreadyInTheBody() {
		String body = splice("{\"priority\":-100,\"model\":\"m\"}", Tier.P2);
		assertThat(json.readTree(body).get("priority").asInt()).isEqualTo(2);
	}

	@Test
	void whatIsNotAnObjectIsLeftAlone() {
		assertThat(splice("[1,2]", Tier.P0)).isEqualTo("[1,2]");
		assertThat(splice("", Tier.P0)).isEmpty();
		assertThat(splice("}", Tier.P0)).isEqualTo("}");
	}

}
