package dev.tiergate.web;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.context.request.async.WebAsyncManagerIntegrationFilter;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.filter.ServerHttpObservationFilter;

import dev.tiergate.problem.OpenAiErrorBody;
import dev.tiergate.proxy.Completions;
import dev.tiergate.proxy.OpenAiException;
import dev.tiergate.proxy.ProxyProperties;
import dev.tiergate.quota.Tenant;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * The OpenAI API's completions ({@link Completions#PATHS}) as a servlet of their own,
 * beside Spring MVC's {@code DispatcherServlet}: the container maps the exact paths here,
 * so the front door's hot path skips MVC's handler lookup, argument resolution and
 * reflective call (8% of its CPU samples at the maximum rate, docs/benchmarks.md). A
 * {@code POST} reaches it through {@link CompletionsLane}, the {@code /v1} security
 * chain's filters and the quota settlement without the rest of the filters. Failures are
 * answered as {@link OpenAiErrorsAdvice} answers the other {@code /v1} endpoints:
 * OpenAI's error JSON from {@link Failure}, never a stack trace; a method other than
 * {@code POST} is a 405 with {@code Allow: POST}.
 */
final class CompletionsServlet extends HttpServlet {

	private static final long serialVersionUID = 1L;

	private static final Logger logger = LoggerFactory.getLogger(CompletionsServlet.class);

	private static final Set<String> ALLOWED = Set.of("POST");

	private final transient Handler completions;

	private final transient JsonMapper json;

	CompletionsServlet(Handler completions, JsonMapper json) {
		this.completions = completions;
		this.json = json;
	}

	@Override
	protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
		try {
			if (!"POST".equals(request.getMethod())) {
				throw new HttpRequestMethodNotSupportedException(request.getMethod(), ALLOWED);
			}
			// The pattern MVC would have matched, for http_server_requests' uri tag.
			ServerHttpObservationFilter.findObservationContext(request)
				.ifPresent((context) -> context.setPathPattern(request.getRequestURI()));
			this.completions.complete(request, response, tenant(), (failure) -> fail(request, response, failure));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			fail(request, response, ex);
		}
		catch (Exception ex) {
			fail(request, response, ex);
		}
	}

	/**
	 * The tenant the security chain authenticated; the chain lets no request without one
	 * through, so its absence is answered as a missing key rather than trusted.
	 */
	private static Tenant tenant() {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		if (authentication != null && authentication.getPrincipal() instanceof Tenant tenant) {
			return tenant;
		}
		throw new OpenAiException(401, "invalid_request_error", "missing_api_key",
				"You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.");
	}

	private void fail(HttpServletRequest request, HttpServletResponse response, Exception ex) throws IOException {
		if (response.isCommitted()) {
			// Part of the answer is out: nothing can be added to it (a client that left
			// is no failure of ours).
			if (ex instanceof IOException) {
				logger.debug("Client connection failed while serving {}: {}", request.getRequestURI(), ex.toString());
			}
			else {
				// only for its log: Failure logs what the caller can no longer be told
				Failure.of(ex, request.getRequestURI());
			}
			return;
		}
		Failure failure = Failure.of(ex, request.getRequestURI());
		response.resetBuffer();
		response.setStatus(failure.status());
		HttpHeaders headers = failure.headers();
		headers.forEach((name, values) -> values.forEach((value) -> response.addHeader(name, value)));
		response.setContentType(MediaType.APPLICATION_JSON_VALUE);
		response.setCharacterEncoding("UTF-8");
		this.json.writeValue(response.getOutputStream(), OpenAiErrorsAdvice.body(failure));
	}

	/**
	 * What serves one authenticated request: {@link Completions#complete}, which answers
	 * the failures of a stream it serves on a thread of its own through {@link #fail}.
	 */
	@FunctionalInterface
	interface Handler {

		void complete(HttpServletRequest request, HttpServletResponse response, Tenant tenant,
				Completions.Failed failed) throws IOException, InterruptedException;

	}

	/**
	 * Registers the servlet on the completions' paths.
	 */
	@Configuration(proxyBeanMethods = false)
	static class Registration {

		@Bean
		ServletRegistrationBean<CompletionsServlet> completionsServlet(Completions completions, JsonMapper json) {
			ServletRegistrationBean<CompletionsServlet> registration = new ServletRegistrationBean<>(
					new CompletionsServlet(completions::complete, json), Completions.PATHS.toArray(String[]::new));
			registration.setName("completions");
			registration.setAsyncSupported(true);
			registration.setLoadOnStartup(1);
			return registration;
		}

		/**
		 * The completions' lane through the filters ({@link CompletionsLane}): before
		 * every other filter, the draining replica's {@code Connection: close}, the
		 * {@code /v1} security chain's filters ({@link #laneFilters}) and the quota
		 * settlement, then this servlet. Off while
		 * {@code tiergate.proxy.observe-requests} asks for the
		 * {@code http.server.requests} observation, whose filter it would pass by.
		 */
		@Bean
		FilterRegistrationBean<CompletionsLane> completionsLane(
				ServletRegistrationBean<CompletionsServlet> completionsServlet,
				@Qualifier("tenantApiSecurity") SecurityFilterChain tenantApi, ClosingConnections closing,
				@Qualifier("quotaPermits") Filter quotaPermits, ProxyProperties proxy) {
			if (tenantApi.getFilters().isEmpty()) {
				throw new IllegalStateException(
						"The /v1 security chain has no filters; the completions need its key filter");
			}
			FilterRegistrationBean<CompletionsLane> registration = new FilterRegistrationBean<>(new CompletionsLane(
					Completions.PATHS, laneFilters(tenantApi, closing, quotaPermits), completionsServlet.getServlet()));
			registration.setName("completionsLane");
			registration.setUrlPatterns(Completions.PATHS);
			registration.setAsyncSupported(true);
			registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
			registration.setEnabled(!proxy.observeRequests());
			return registration;
		}

		/**
		 * The lane's filters in order: the draining replica's {@code Connection: close},
		 * the {@code /v1} chain's filters but its
		 * {@link WebAsyncManagerIntegrationFilter} (it hands the security context to
		 * Spring MVC's async requests, which this servlet never makes, and made a
		 * {@code WebAsyncManager} per request), and the quota settlement.
		 * @param tenantApi the {@code /v1} security chain
		 * @param closing the draining replica's filter
		 * @param quotaPermits the quota settlement
		 * @return the filters
		 */
		static List<Filter> laneFilters(SecurityFilterChain tenantApi, Filter closing, Filter quotaPermits) {
			List<Filter> filters = new ArrayList<>();
			filters.add(closing);
			for (Filter filter : tenantApi.getFilters()) {
				if (!(filter instanceof WebAsyncManagerIntegrationFilter)) {
					filters.add(filter);
				}
			}
			filters.add(quotaPermits);
			return filters;
		}

	}

}
