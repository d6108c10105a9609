package dev.tiergate.web;

import java.io.IOException;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.resource.ResourceUrlEncodingFilter;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Spring's {@link ResourceUrlEncodingFilter} (it gives the dashboard's pages their
 * versioned {@code /webjars/...} links) for the pages only: it wraps every request to
 * watch its attributes, and the OpenAI API's requests, which render no page, paid that
 * wrapper on each of their attribute reads and writes (docs/benchmarks.md). Registered in
 * place of Spring Boot's, which backs off when this one exists.
 */
@Configuration(proxyBeanMethods = false)
class PageOnlyResourceUrls {

	@Bean
	FilterRegistrationBean<ResourceUrlEncodingFilter> resourceUrlEncodingFilter() {
		FilterRegistrationBean<ResourceUrlEncodingFilter> registration = new FilterRegistrationBean<>(
				new PagesFilter());
		registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ERROR);
		return registration;
	}

	/** Skips the OpenAI API ({@code /v1/}). */
	static final class PagesFilter extends ResourceUrlEncodingFilter {

		@Override
		public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
				throws ServletException, IOException {
			if (request instanceof HttpServletRequest http && http.getRequestURI().startsWith("/v1/")) {
				chain.doFilter(request, response);
				return;
			}
			super.doFilter(request, response, chain);
		}

	}

}
