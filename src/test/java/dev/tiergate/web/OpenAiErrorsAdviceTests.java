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
 * Tests for {@link OpenAiErrorsAdvice}: every failure on {@code /v1} has OpenAI's error
 * shape ({@code error.message}, {@code type}, {@code param}, {@code code}), which OpenAI
 * clients parse, including failures no controller saw. A web slice with no Redis and no
 * security filters.
 */
@WebMvcTest(controllers = ErrorFormatsTestController.OpenAi.class)
@AutoConfigureMockMvc(addFilters = false)
class OpenAiErrorsAdviceTests {

	@Autowired
	private MockMvc mvc;

	@Test
	void aFeatureExceptionHasOpenAisShape() throws Exception {
		this.mvc.perform(get("/v1/test/not-found"))
			.andExpect(status().isNotFound())
			.andExpect(content().contentType(MediaType.APPLICATION_JSON))
			.andExpect(jsonPath("$.error.message").value("The model 'x' does not exist"))
			.andExpect(jsonPath("$.error.type").value("invalid_request_error"))
			.andExpect(jsonPath("$.error.code").value("not_found"))
			.andExpect(jsonPath("$.error.param").isEmpty());
	}

	@Test
	void anUnavailableBackendIsAServiceUnavailableErrorWithRetryAfter() throws Exception {
		this.mvc.perform(get("/v1/test/retry"))
			.andExpect(status().isServiceUnavailable())
			.andExpect(header().string("Retry-After", "5"))
			.andExpect(jsonPath("$.error.type").value("service_unavailable"));
	}

	@Test
	void anUnexpectedFailureIsAServerErrorWithoutDetail() throws Exception {
		this.mvc.perform(get("/v1/test/bug"))
			.andExpect(status().isInternalServerError())
			.andExpect(jsonPath("$.error.type").value("server_error"))
			.andExpect(content().string(not(containsString("must not leak"))));
	}

	@Test
	void malformedJsonIsAnInvalidRequest() throws Exception {
		this.mvc.perform(post("/v1/test/echo").contentType(MediaType.APPLICATION_JSON).content("{\"model\":"))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.error.code").value("invalid_json"));
	}

	@Test
	void failuresBeforeAnyControllerStillSpeakOpenAi() throws Exception {
		this.mvc.perform(get("/v1/no-such-endpoint"))
			.andExpect(status().isNotFound())
			.andExpect(jsonPath("$.error.code").value("not_found"));
		this.mvc.perform(get("/v1/test/echo"))
			.andExpect(status().isMethodNotAllowed())
			.andExpect(jsonPath("$.error.code").value("method_not_allowed"));
	}

}
