package dev.tiergate.web;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the OpenAPI document at {@code /v3/api-docs}: behind the operator login, and
 * complete for {@code /api/v1} and {@code /v1}.
 */
class OpenApiIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	@Qualifier("requestMappingHandlerMapping")
	private RequestMappingHandlerMapping mappings;

	private JsonNode document() throws Exception {
		HttpResponse<String> response = get("/v3/api-docs", basic("admin", "admin"));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		java.nio.file.Files.writeString(java.nio.file.Path.of("target/openapi.json"), response.body());
		return JsonMapper.shared().readTree(response.body());
	}

	@Test
	void documentNeedsAnOperatorLogin() throws Exception {
		HttpResponse<String> anonymous = get("/v3/api-docs", null);
		assertThat(anonymous.statusCode()).isEqualTo(401);
		assertThat(anonymous.headers().firstValue("Content-Type").orElse("")).contains("application/problem+json");
		assertThat(get("/v3/api-docs", basic("admin", "wrong")).statusCode()).isEqualTo(401);
		assertThat(get("/v3/api-docs", "Bearer " + EmbeddedDefaults.CI_TOKEN).statusCode()).isEqualTo(200);
		assertThat(get("/v3/api-docs", "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode())
			.as("a tenant key is no operator login")
			.isEqualTo(401);
	}

	@Test
	void documentIsOpenApi31() throws Exception {
		JsonNode document = document();
		assertThat(document.get("openapi").asString()).startsWith("3.1");
		JsonNode schemas = document.get("components").get("schemas");
		assertThat(schemas.has("Problem")).isTrue();
		assertThat(schemas.has("OpenAiError")).isTrue();
		assertThat(schemas.get("TenantRequest").get("properties").has("allowedTiers")).isTrue();
		JsonNode create = document.get("paths").get("/api/v1/tenants").get("post");
		assertThat(create.get("requestBody").toString()).contains("#/components/schemas/TenantRequest");
		assertThat(create.get("responses").get("400").get("content").get("application/problem+json").toString())
			.contains("#/components/schemas/Problem");
		JsonNode chat = document.get("paths").get("/v1/chat/completions").get("post");
		assertThat(chat.get("requestBody").toString()).contains("#/components/schemas/ChatCompletionRequest");
		assertThat(chat.get("responses").get("429").toString()).contains("#/components/schemas/OpenAiError");
		assertThat(document.get("components").get("securitySchemes").has("ciToken")).isTrue();
	}

	@Test
	void everyApiAndOpenAiMappingIsDocumented() throws Exception {
		JsonNode paths = document().get("paths");
		List<String> missing = new ArrayList<>();
		int checked = 0;
		for (var info : this.mappings.getHandlerMethods().keySet()) {
			for (String pattern : info.getPatternValues()) {
				if (!pattern.startsWith("/api/v1") && !pattern.startsWith("/v1/")) {
					continue;
				}
				String path = pattern.replaceAll("\\{([^}:]+):[^}]*\\}", "{$1}");
				var methods = info.getMethodsCondition().getMethods();
				for (RequestMethod method : methods.isEmpty() ? List.of(RequestMethod.GET) : methods) {
					checked++;
					JsonNode operations = paths.get(path);
					if (operations == null || operations.get(method.name().toLowerCase(Locale.ROOT)) == null) {
						missing.add(method + " " + path);
					}
				}
			}
		}
		assertThat(checked).as("mappings under /api/v1 and /v1").isGreaterThan(30);
		assertThat(missing).isEmpty();
	}

}
