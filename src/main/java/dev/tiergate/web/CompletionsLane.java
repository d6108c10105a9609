package dev.tiergate.web;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;

/**
 * The completions' own way through the container's filters: a {@code POST} whose raw
 * request URI is exactly one of the completions' paths runs the {@code /v1} security
 * chain's own filters (the security headers and the tenant key filter, the one gate),
 * then the filters the answer needs (the quota settlement), then the completions servlet,
 * and nothing else. What it leaves out was 12% of the front door's CPU samples at the
 * maximum rate (docs/benchmarks.md) and does nothing for such a request: Spring Boot's
 * character-encoding, form-content, request-context and path-parsing filters (the body is
 * read as bytes, no form, no MVC), the {@code http.server.requests} observation (off for
 * {@code /v1} unless {@code tiergate.proxy.observe-requests}, which turns this lane off),
 * the security filter chain proxy with its firewall (its checks of the path and the
 * method pass by construction for a raw URI equal to a fixed path and {@code POST};
 * Tomcat itself drops control characters from the response's header values), the page
 * filters. Anything else, including the same path with another method, an encoded or
 * dotted spelling, or an error or async dispatch, takes the full chain as before.
 */
final class CompletionsLane implements Filter {

	private final Set<String> paths;

	private final Filter[] filters;

	private final Servlet servlet;

	/**
	 * A lane over the given filters, in order, then the servlet.
	 * @param paths the exact request URIs it takes
	 * @param filters the filters each request passes, in order
	 * @param servlet the servlet that answers
	 */
	CompletionsLane(Collection<String> paths, List<Filter> filters, Servlet servlet) {
		this.paths = Set.copyOf(paths);
		this.filters = filters.toArray(Filter[]::new);
		this.servlet = servlet;
	}

	@Override
	public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
			throws IOException, ServletException {
		if (request instanceof HttpServletRequest http && takes(http)) {
			new Steps(this.filters, this.servlet).doFilter(request, response);
			return;
		}
		chain.doFilter(request, response);
	}

	/**
	 * Whether a request takes the lane.
	 * @param request the request
	 * @return whether it is a first dispatch of a {@code POST} to one of the paths, spelt
	 * exactly
	 */
	boolean takes(HttpServletRequest request) {
		return request.getDispatcherType() == DispatcherType.REQUEST && "POST".equals(request.getMethod())
				&& this.paths.contains(request.getRequestURI());
	}

	/** One request's way through the lane's filters to the servlet. */
	private static final class Steps implements FilterChain {

		private final Filter[] filters;

		private final Servlet servlet;

		private int next;

		Steps(Filter[] filters, Servlet servlet) {
			this.filters = filters;
			this.servlet = servlet;
		}

		@Override
		public void doFilter(ServletRequest request, ServletResponse response) throws IOException, ServletException {
			if (this.next < this.filters.length) {
				this.filters[this.next++].doFilter(request, response, this);
			}
			else {
				this.servlet.service(request, response);
			}
		}

	}

}
