package dev.tiergate.web;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * Tests for {@link ProblemDetailsAdvice}: every failure outside {@code /v1} is an RFC
 * 9457 problem with a type from {@code ProblemTypes}, the field at fault, and no
 * internals. A web slice with no Redis and no security filters.
 */
@WebMvcTest(controllers = ErrorFormatsTestController.Api.class)
@AutoConfigureMockMvc(addFilters = false)
class ProblemDetailsAdviceTests {

	@Autowired
	private MockMvc mvc;

	@Test
	void aFeatureExceptionNamesItsFieldAndType() throws Exception {
		this.mvc.perform(get("/api/v1/test/invalid-tier"))
			.andExpect(status().isBadRequest())
			.andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/invalid-request"))
			.andExpect(jsonPath("$.field").value("P0.reservedShare"))
			.andExpect(jsonPath("$.detail").value("P0.reservedShare: must be between 0 and 1"));
	}

	@Test
	void aConflictListsWhatItConflictsWith() throws Exception {
		this.mvc.perform(get("/api/v1/test/conflict"))
			.andExpect(status().isConflict())
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/conflict"))
			.andExpect(jsonPath("$.conflicts[1]").value("pod-b"));
	}

	@Test
	void anUnavailableBackendSaysWhenToRetryAndHidesItsCause() throws Exception {
		this.mvc.perform(get("/api/v1/test/unavailable"))
			.andExpect(status().isServiceUnavailable())
			.andExpect(header().string("Retry-After", "5"))
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/unavailable"))
			.andExpect(content().string(not(containsString("secret internals"))));
	}

	@Test
	void aRoleThatMayNotIsForbidden() throws Exception {
		this.mvc.perform(get("/api/v1/test/denied"))
			.andExpect(status().isForbidden())
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/forbidden"));
	}

	@Test
	void aStoreOutageIs503WithoutItsAddress() throws Exception {
		this.mvc.perform(get("/api/v1/test/store"))
			.andExpect(status().isServiceUnavailable())
			.andExpect(header().string("Retry-After", "1"))
			.andExpect(content().string(not(containsString("10.0.0.1"))));
	}

	@Test
	void anUnexpectedFailureIs500WithoutDetail() throws Exception {
		this.mvc.perform(get("/api/v1/test/bug"))
			.andExpect(status().isInternalServerError())
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/internal"))
			.andExpect(content().string(not(containsString("must not leak"))));
	}

	@Test
	void malformedJsonAndWrongTypesAreRefusedNamingTheField() throws Exception {
		this.mvc.perform(post("/api/v1/test/limits").contentType(MediaType.APPLICATION_JSON).content("{\"requests"))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.detail").value("The request body is not valid JSON of the expected shape."));
		this.mvc
			.perform(post("/api/v1/test/limits").contentType(MediaType.APPLICATION_JSON)
				.content("{\"requestsPerMinute\":\"many\"}"))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.field").value("requestsPerMinute"));
	}

	@Test
	void frameworkRefusalsKeepTheirStatus() throws Exception {
		this.mvc.perform(post("/api/v1/test/invalid-tier"))
			.andExpect(status().isMethodNotAllowed())
			.andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON));
		this.mvc.perform(post("/api/v1/test/limits").contentType(MediaType.TEXT_PLAIN).content("x"))
			.andExpect(status().isUnsupportedMediaType());
		this.mvc.perform(get("/api/v1/no-such-thing"))
			.andExpect(status().isNotFound())
			.andExpect(jsonPath("$.type").value("https://tiergate.dev/problems/not-found"));
	}

}
