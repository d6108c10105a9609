package dev.tiergate.web;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link CompletionsLane}: which requests take it, and that they pass its
 * filters in order, stop where a filter stops them, and never reach the rest of the
 * container's chain.
 */
class CompletionsLaneTests {

	private static final Set<String> PATHS = Set.of("/v1/chat/completions", "/v1/embeddings");

	private final List<String> seen = new ArrayList<>();

	private Filter step(String name) {
		return (request, response, chain) -> {
			this.seen.add(name);
			chain.doFilter(request, response);
		};
	}

	private final HttpServlet servlet = new HttpServlet() {

		private static final long serialVersionUID = 1L;

		@Override
		public void service(ServletRequest request, ServletResponse response) {
			CompletionsLaneTests.this.seen.add("servlet");
		}

	};

	private final FilterChain rest = (request, response) -> this.seen.add("rest of the chain");

	private CompletionsLane lane(Filter... filters) {
		return new CompletionsLane(PATHS, List.of(filters), this.servlet);
	}

	private static MockHttpServletRequest request(String method, String uri) {
		MockHttpServletRequest request = new MockHttpServletRequest(method, uri);
		request.setDispatcherType(DispatcherType.REQUEST);
		return request;
	}

	@Test
	void aPostToAPathSpeltExactlyPassesTheLanesFiltersInOrderThenTheServletAndNothingElse() throws Exception {
		lane(step("headers"), step("key"), step("quota")).doFilter(request("POST", "/v1/chat/completions"),
				new MockHttpServletResponse(), this.rest);
		assertThat(this.seen).containsExactly("headers", "key", "quota", "servlet");
	}

	@Test
	void aFilterThatAnswersStopsTheLane() throws Exception {
		Filter refuse = (request, response, chain) -> {
			this.seen.add("key refused");
			((jakarta.servlet.http.HttpServletResponse) response).setStatus(401);
		};
		MockHttpServletResponse response = new MockHttpServletResponse();
		lane(step("headers"), refuse, step("quota")).doFilter(request("POST", "/v1/embeddings"), response, this.rest);
		assertThat(this.seen).containsExactly("headers", "key refused");
		assertThat(response.getStatus()).isEqualTo(401);
	}

	@Test
	void everythingElseTakesTheWholeChain() throws IOException, jakarta.servlet.ServletException {
		CompletionsLane lane = lane(step("key"));
		List<MockHttpServletRequest> others = new ArrayList<>();
		others.add(request("GET", "/v1/chat/completions"));
		others.add(request("PUT", "/v1/chat/completions"));
		others.add(request("POST", "/v1/chat/completions/"));
		others.add(request("POST", "/v1//chat/completions"));
		others.add(request("POST", "/v1/chat/%63ompletions"));
		others.add(request("POST", "/v1/chat/completions;x=y"));
		others.add(request("POST", "/v1/./chat/completions"));
		others.add(request("POST", "/V1/chat/completions"));
		others.add(request("POST", "/v1/models"));
		MockHttpServletRequest error = request("POST", "/v1/chat/completions");
		error.setDispatcherType(DispatcherType.ERROR);
		others.add(error);
		MockHttpServletRequest async = request("POST", "/v1/chat/completions");
		async.setDispatcherType(DispatcherType.ASYNC);
		others.add(async);
		for (MockHttpServletRequest other : others) {
			this.seen.clear();
			lane.doFilter(other, new MockHttpServletResponse(), this.rest);
			assertThat(this.seen).as(other.getMethod() + " " + other.getRequestURI() + " " + other.getDispatcherType())
				.containsExactly("rest of the chain");
		}
	}

}
