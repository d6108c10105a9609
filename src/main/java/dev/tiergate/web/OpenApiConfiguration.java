package dev.tiergate.web;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.Paths;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.BooleanSchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.proxy.Completions;

/**
 * The OpenAPI document at {@code /v3/api-docs} (springdoc): who may call what, the error
 * shapes of each API (RFC 9457 problem details for {@code /api/v1}, OpenAI's error JSON
 * for {@code /v1}), and the request bodies of the OpenAI-compatible completions, which
 * the proxy reads as raw JSON to pass on unchanged.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

	private static final String PROBLEM = "Problem";

	private static final String OPENAI_ERROR = "OpenAiError";

	private static final Map<String, String> PROBLEM_RESPONSES = Map.of("400",
			"Invalid input; `field` names the culprit", "401", "No or wrong operator login or CI token", "403",
			"The role does not allow this operation", "404", "No such object", "409",
			"Conflicts with the current state");

	private static final Map<String, String> OPENAI_RESPONSES = Map.of("400", "Malformed body or fields", "401",
			"No key, or an unknown or revoked one", "403", "The tenant may not use the tier asked for", "404",
			"No pod serves the model", "429", "Quota or queue limits; see Retry-After", "502",
			"The inference endpoint failed", "503", "No capacity, queue timeout or quota store unavailable");

	@Bean
	OpenApiCustomizer tiergateOpenApi() {
		return (openApi) -> {
			openApi.info(new Info().title("Tiergate")
				.version("v1")
				.description("REST API for operators and CI (/api/v1: HTTP Basic or a tgo-... bearer token; reads "
						+ "need VIEWER, changes OPERATOR, cluster changes ADMIN) and the OpenAI-compatible API "
						+ "(/v1: a tenant's tg-... key as bearer)."));
			Components components = (openApi.getComponents() != null) ? openApi.getComponents() : new Components();
			openApi.components(components);
			components
				.addSecuritySchemes("operatorBasic",
						new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("basic"))
				.addSecuritySchemes("ciToken",
						new SecurityScheme().type(SecurityScheme.Type.HTTP)
							.scheme("bearer")
							.description("tgo-... token"))
				.addSecuritySchemes("tenantKey",
						new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer").description("tg-... key"));
			components.addSchemas(PROBLEM, problemSchema());
			components.addSchemas(OPENAI_ERROR, openAiErrorSchema());
			components.addSchemas("ChatCompletionRequest", completionSchema(true));
			components.addSchemas("CompletionRequest", completionSchema(false));
			if (openApi.getPaths() == null) {
				openApi.paths(new Paths());
			}
			completions(openApi.getPaths());
			openApi.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
				if (path.startsWith("/api/")) {
					operation.addSecurityItem(new SecurityRequirement().addList("operatorBasic"))
						.addSecurityItem(new SecurityRequirement().addList("ciToken"));
					PROBLEM_RESPONSES.forEach(
							(status, text) -> addError(operation, status, text, "application/problem+json", PROBLEM));
				}
				else if (path.startsWith("/v1/")) {
					operation.addSecurityItem(new SecurityRequirement().addList("tenantKey"));
					OPENAI_RESPONSES
						.forEach((status, text) -> addError(operation, status, text, "application/json", OPENAI_ERROR));
					if (path.equals("/v1/chat/completions") || path.equals("/v1/completions")) {
						operation.requestBody(new RequestBody().required(true)
							.content(new Content().addMediaType("application/json",
									new MediaType().schema(new Schema<>()
										.$ref("#/components/schemas/" + (path.equals("/v1/chat/completions")
												? "ChatCompletionRequest" : "CompletionRequest"))))));
					}
				}
			}));
		};
	}

	/**
	 * The completions, which a servlet of their own serves ({@link CompletionsServlet}),
	 * so springdoc, which reads MVC's mappings, does not see them.
	 */
	private static void completions(Paths paths) {
		for (String path : Completions.PATHS) {
			String what = switch (path) {
				case "/v1/chat/completions" -> "Chat completion";
				case "/v1/completions" -> "Text completion";
				default -> "Embeddings";
			};
			ApiResponses responses = new ApiResponses().addApiResponse("200", new ApiResponse()
				.description(what + " from an inference endpoint: its JSON, or server-sent events when the request "
						+ "sets stream")
				.content(new Content().addMediaType("application/json", new MediaType().schema(new ObjectSchema()))
					.addMediaType("text/event-stream", new MediaType().schema(new StringSchema()))));
			Operation post = new Operation().operationId(path.substring(4).replace("/", "-"))
				.summary(what + " (OpenAI-compatible), queued by tier")
				.tags(List.of("completions"))
				.responses(responses);
			paths.addPathItem(path, new PathItem().post(post));
		}
	}

	private static void addError(Operation operation, String status, String text, String mediaType, String schema) {
		if (operation.getResponses() == null || operation.getResponses().containsKey(status)) {
			return;
		}
		operation.getResponses()
			.addApiResponse(status,
					new ApiResponse().description(text)
						.content(new Content().addMediaType(mediaType,
								new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + schema)))));
	}

	private static Schema<?> problemSchema() {
		return new ObjectSchema().description("RFC 9457 problem details")
			.addProperty("type", new StringSchema().description("URI of the problem type"))
			.addProperty("title", new StringSchema())
			.addProperty("status", new IntegerSchema())
			.addProperty("detail", new StringSchema().description("What is wrong, for a person"))
			.addProperty("instance", new StringSchema())
			.addProperty("field", new StringSchema().description("The input field at fault, when one is"))
			.addProperty("conflicts", new ArraySchema().items(new StringSchema())
				.description("What stands in the way (e.g. pods using a PriorityClass), on 409"));
	}

	private static Schema<?> openAiErrorSchema() {
		return new ObjectSchema().description("OpenAI's error JSON")
			.addProperty("error", new ObjectSchema().addProperty("message", new StringSchema())
				.addProperty("type", new StringSchema())
				.addProperty("param", new StringSchema())
				.addProperty("code", new StringSchema().description(
						"e.g. invalid_api_key, tier_not_allowed, rate_limit_exceeded, overloaded, no_capacity")));
	}

	private static Schema<?> completionSchema(boolean chat) {
		ObjectSchema schema = new ObjectSchema();
		schema.description("OpenAI's request, passed to the inference endpoint unchanged (other fields too); "
				+ "X-Tiergate-Priority: P0|P1|P2 overrides service_tier");
		schema.addProperty("model", new StringSchema());
		if (chat) {
			schema.addProperty("messages",
					new ArraySchema().items(new ObjectSchema().addProperty("role", new StringSchema())
						.addProperty("content", new StringSchema())));
			schema.addProperty("max_completion_tokens", new IntegerSchema());
		}
		else {
			schema.addProperty("prompt", new StringSchema());
		}
		schema.addProperty("max_tokens", new IntegerSchema());
		schema.addProperty("stream", new BooleanSchema());
		schema.addProperty("stream_options", new ObjectSchema().addProperty("include_usage", new BooleanSchema()));
		schema.addProperty("service_tier", new StringSchema()._enum(List.of("auto", "default", "flex", "priority")));
		schema.required(chat ? List.of("model", "messages") : List.of("model", "prompt"));
		schema.additionalProperties(Boolean.TRUE);
		return schema;
	}

}
