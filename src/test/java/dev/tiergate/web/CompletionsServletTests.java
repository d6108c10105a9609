package dev.tiergate.web;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;

import dev.tiergate.proxy.OpenAiException;
import dev.tiergate.quota.Tenant;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link CompletionsServlet}: the completions outside Spring MVC answer their
 * failures in OpenAI's shape, as MVC's advice answers the other {@code /v1} endpoints.
 */
class CompletionsServletTests {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final Tenant ACME = new Tenant("acme", "Acme", Set.of(Tier.P0, Tier.P1), Tier.P0, 1, null, null,
			false);

	@AfterEach
	void clearContext() {
		SecurityContextHolder.clearContext();
	}

	private static MockHttpServletResponse call(String method, CompletionsServlet.Handler handler) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/v1/chat/completions");
		MockHttpServletResponse response = new MockHttpServletResponse();
		new CompletionsServlet(handler, json).service(request, response);
		return response;
	}

	private static void authenticate() {
		SecurityContextHolder.getContext()
			.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(ACME, null, List.of()));
	}

	private static JsonNode error(MockHttpServletResponse response) throws Exception {
		assertThat(response.getContentType()).startsWith("application/json");
		JsonNode error = json.readTree(response.getContentAsString()).get("error");
		assertThat(error).as(response.getContentAsString()).isNotNull();
		assertThat(response.getContentAsString()).doesNotContain("Exception").doesNotContain("\tat ");
		return error;
	}

	@Test
	void servesTheAuthenticatedTenant() throws Exception {
		authenticate();
		AtomicReference<Tenant> seen = new AtomicReference<>();
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			seen.set(tenant);
			answer.getWriter().write("{}");
		});
		assertThat(seen.get()).isEqualTo(ACME);
		assertThat(response.getStatus()).isEqualTo(200);
		assertThat(response.getContentAsString()).isEqualTo("{}");
	}

	@Test
	void anotherMethodIs405NamingPost() throws Exception {
		authenticate();
		MockHttpServletResponse response = call("GET", (request, answer, tenant, failed) -> {
			throw new AssertionError("not served");
		});
		assertThat(response.getStatus()).isEqualTo(405);
		assertThat(response.getHeader("Allow")).isEqualTo("POST");
		assertThat(error(response).get("code").asString()).isEqualTo("method_not_allowed");
	}

	@Test
	void noAuthenticatedTenantIsRefusedNotTrusted() throws Exception {
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			throw new AssertionError("not served");
		});
		assertThat(response.getStatus()).isEqualTo(401);
		assertThat(error(response).get("code").asString()).isEqualTo("missing_api_key");
	}

	@Test
	void anOpenAiFailureKeepsItsStatusCodeAndRetryAfter() throws Exception {
		authenticate();
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			throw new OpenAiException(429, "rate_limit_error", "rate_limit_exceeded", "Slow down.",
					Duration.ofMillis(1500));
		});
		assertThat(response.getStatus()).isEqualTo(429);
		assertThat(response.getHeader("Retry-After")).isEqualTo("2");
		JsonNode error = error(response);
		assertThat(error.get("code").asString()).isEqualTo("rate_limit_exceeded");
		assertThat(error.get("type").asString()).isEqualTo("rate_limit_error");
		assertThat(error.get("message").asString()).isEqualTo("Slow down.");
	}

	@Test
	void anUnexpectedFailureIs500WithoutDetail() throws Exception {
		authenticate();
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			answer.getOutputStream().write("partial, not committed".getBytes());
			throw new IllegalStateException("secret internals");
		});
		assertThat(response.getStatus()).isEqualTo(500);
		JsonNode error = error(response);
		assertThat(error.get("type").asString()).isEqualTo("server_error");
		assertThat(response.getContentAsString()).doesNotContain("secret").doesNotContain("partial");
	}

	@Test
	void anInterruptedRequestIsAnsweredAndStaysInterrupted() throws Exception {
		authenticate();
		try {
			MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
				throw new InterruptedException();
			});
			assertThat(response.getStatus()).isEqualTo(500);
			assertThat(Thread.currentThread().isInterrupted()).isTrue();
		}
		finally {
			Thread.interrupted();
		}
	}

	@Test
	void aFailureOfAStreamServedOnAThreadOfItsOwnIsAnsweredAsAThrownOne() throws Exception {
		authenticate();
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			// as a detached stream's thread does, once the servlet has returned
			failed
				.answer(new OpenAiException(503, "server_error", "no_capacity", "No capacity.", Duration.ofSeconds(1)));
		});
		assertThat(response.getStatus()).isEqualTo(503);
		assertThat(response.getHeader("Retry-After")).isEqualTo("1");
		assertThat(error(response).get("code").asString()).isEqualTo("no_capacity");
	}

	@Test
	void aFailureAfterTheAnswerBeganAddsNothingToIt() throws Exception {
		authenticate();
		MockHttpServletResponse response = call("POST", (request, answer, tenant, failed) -> {
			answer.getOutputStream().write("data: {}\n\n".getBytes());
			answer.flushBuffer();
			throw new IOException("Broken pipe");
		});
		assertThat(response.getStatus()).isEqualTo(200);
		assertThat(response.getContentAsString()).isEqualTo("data: {}\n\n");
	}

	@Test
	void theLaneRunsTheV1ChainsFiltersButItsAsyncIntegrationBetweenDrainingAndSettlement() {
		jakarta.servlet.Filter closing = (request, response, chain) -> chain.doFilter(request, response);
		jakarta.servlet.Filter settlement = (request, response, chain) -> chain.doFilter(request, response);
		jakarta.servlet.Filter headers = (request, response, chain) -> chain.doFilter(request, response);
		jakarta.servlet.Filter key = (request, response, chain) -> chain.doFilter(request, response);
		org.springframework.security.web.SecurityFilterChain tenantApi = new org.springframework.security.web.DefaultSecurityFilterChain(
				org.springframework.security.web.util.matcher.AnyRequestMatcher.INSTANCE,
				new org.springframework.security.web.context.request.async.WebAsyncManagerIntegrationFilter(), headers,
				key);
		assertThat(CompletionsServlet.Registration.laneFilters(tenantApi, closing, settlement)).containsExactly(closing,
				headers, key, settlement);
	}

}
