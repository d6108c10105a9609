package dev.tiergate.web;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import jakarta.servlet.ServletRequest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link PageOnlyResourceUrls}: the OpenAI API's requests pass unwrapped, pages
 * are wrapped as by Spring Boot's registration.
 */
class PageOnlyResourceUrlsTests {

	private final PageOnlyResourceUrls.PagesFilter filter = new PageOnlyResourceUrls.PagesFilter();

	private ServletRequest passedOn(String uri) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", uri);
		AtomicReference<ServletRequest> seen = new AtomicReference<>();
		this.filter.doFilter(request, new MockHttpServletResponse(), (req, res) -> seen.set(req));
		return seen.get();
	}

	@Test
	void theOpenAiApiIsNotWrapped() throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/chat/completions");
		AtomicReference<ServletRequest> seen = new AtomicReference<>();
		this.filter.doFilter(request, new MockHttpServletResponse(), (req, res) -> seen.set(req));
		assertThat(seen.get()).isSameAs(request);
	}

	@Test
	void pagesAndTheRestApiAreWrappedForResourceUrls() throws Exception {
		assertThat(passedOn("/quota/tenants")).isNotInstanceOf(MockHttpServletRequest.class);
		assertThat(passedOn("/api/v1/tenants")).isNotInstanceOf(MockHttpServletRequest.class);
		assertThat(passedOn("/v1")).as("not under /v1/").isNotInstanceOf(MockHttpServletRequest.class);
	}

}
