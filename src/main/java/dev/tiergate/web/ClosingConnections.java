package dev.tiergate.web;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * While a replica drains on shutdown, every answer it gives carries
 * {@code Connection: close}, so that a client holding a keep-alive connection to it
 * (which a Service's endpoint removal does not move) opens its next connection through
 * the Service, to a replica that is ready, instead of sending its next request to this
 * one just as the web server stops reading: a request written to a connection the server
 * then closes gets no answer and cannot be told apart from one that was lost. Outside the
 * drain it does nothing but read one volatile field.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class ClosingConnections extends OncePerRequestFilter {

	private volatile boolean draining;

	/** From now on, every answer closes its connection. */
	void drain() {
		this.draining = true;
	}

	boolean draining() {
		return this.draining;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (this.draining) {
			response.setHeader("Connection", "close");
		}
		chain.doFilter(request, response);
	}

}
