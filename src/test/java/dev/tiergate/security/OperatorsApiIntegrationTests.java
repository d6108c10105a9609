package dev.tiergate.security;

import java.net.http.HttpResponse;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@code /api/v1/operators} and {@code /api/v1/tokens}: administrators manage
 * people and CI tokens; nothing else may.
 */
class OperatorsApiIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String ADMIN = basic("admin", "admin");

	private final String suffix = UUID.randomUUID().toString().substring(0, 8);

	@Test
	void anAdministratorAddsAnOperatorWhoCanThenSignIn() throws Exception {
		String name = "ops-" + this.suffix;
		HttpResponse<String> created = send("PUT", "/api/v1/operators/" + name, ADMIN,
				"{\"password\":\"a-long-password\",\"role\":\"operator\"}");
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		assertThat(send("GET", "/api/v1/tiers", basic(name, "a-long-password"), null).statusCode()).isEqualTo(200);
		assertThat(send("GET", "/api/v1/operators", ADMIN, null).body()).contains(name)
			.doesNotContain("passwordHash")
			.doesNotContain("a-long-password");
		assertThat(send("GET", "/api/v1/operators", basic(name, "a-long-password"), null).statusCode())
			.as("operators do not manage operators")
			.isEqualTo(403);
		assertThat(send("DELETE", "/api/v1/operators/" + name, ADMIN, null).statusCode()).isEqualTo(204);
		assertThat(send("GET", "/api/v1/tiers", basic(name, "a-long-password"), null).statusCode()).isEqualTo(401);
	}

	@Test
	void aCiTokenIsShownOnceWorksAndStopsWhenRevoked() throws Exception {
		String name = "ci-" + this.suffix;
		HttpResponse<String> created = send("POST", "/api/v1/tokens", ADMIN,
				"{\"name\":\"" + name + "\",\"role\":\"VIEWER\"}");
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		String token = json.readTree(created.body()).get("token").asString();
		assertThat(token).startsWith("tgo-");
		assertThat(send("GET", "/api/v1/dispatch/queues", "Bearer " + token, null).statusCode()).isEqualTo(200);
		assertThat(send("PUT", "/api/v1/tiers", "Bearer " + token, "{}").statusCode()).as("a viewer token")
			.isEqualTo(403);
		String listed = send("GET", "/api/v1/tokens", ADMIN, null).body();
		assertThat(listed).contains(name).doesNotContain(token);
		assertThat(
				send("POST", "/api/v1/tokens", ADMIN, "{\"name\":\"" + name + "\",\"role\":\"VIEWER\"}").statusCode())
			.as("names are unique")
			.isEqualTo(409);
		assertThat(send("DELETE", "/api/v1/tokens/" + name, ADMIN, null).statusCode()).isEqualTo(204);
		assertThat(send("GET", "/api/v1/dispatch/queues", "Bearer " + token, null).statusCode()).isEqualTo(401);
	}

	@Test
	void badInputIs400OrNotFoundAndNeverA500() throws Exception {
		String[][] cases = {
				{ "PUT", "/api/v1/operators/Bad%20Name", "{\"password\":\"a-long-password\",\"role\":\"VIEWER\"}",
						"400", "username" },
				{ "PUT", "/api/v1/operators/short-" + this.suffix, "{\"password\":\"short\",\"role\":\"VIEWER\"}",
						"400", "password" },
				{ "PUT", "/api/v1/operators/r-" + this.suffix, "{\"password\":\"a-long-password\",\"role\":\"KING\"}",
						"400", "role" },
				{ "PUT", "/api/v1/operators/j-" + this.suffix, "{bad", "400", "" },
				{ "POST", "/api/v1/tokens", "{\"name\":\"\",\"role\":\"VIEWER\"}", "400", "name" },
				{ "POST", "/api/v1/tokens", "null", "400", "" },
				{ "DELETE", "/api/v1/tokens/nope-" + this.suffix, null, "404", "" },
				{ "DELETE", "/api/v1/operators/nope-" + this.suffix, null, "404", "" },
				{ "DELETE", "/api/v1/operators/admin", null, "409", "" } };
		for (String[] c : cases) {
			HttpResponse<String> response = send(c[0], c[1], ADMIN, c[2]);
			assertThat(response.statusCode()).as(c[0] + " " + c[1] + " " + response.body())
				.isEqualTo(Integer.parseInt(c[3]));
			JsonNode problem = json.readTree(response.body());
			assertThat(problem.get("detail").asString()).contains(c[4]).doesNotContain("Exception");
		}
	}

	@Test
	void nonAdministratorsGet403() throws Exception {
		assertThat(send("GET", "/api/v1/tokens", "Bearer " + EmbeddedDefaults.CI_TOKEN, null).statusCode())
			.isEqualTo(403);
		assertThat(send("POST", "/api/v1/tokens", basic("viewer", "viewer"), "{\"name\":\"x\",\"role\":\"ADMIN\"}")
			.statusCode()).isEqualTo(403);
	}

}
