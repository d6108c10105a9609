package dev.tiergate.web;

import java.util.List;
import java.util.Map;

import org.springframework.dao.QueryTimeoutException;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.ClusterUnavailableException;
import dev.tiergate.problem.NotFoundException;
import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.quota.Limits;
import dev.tiergate.tier.InvalidTierException;

/**
 * Controllers that fail in every way the error advices must answer: one under
 * {@code /api}, one marked {@link OpenAiApi} under {@code /v1}.
 */
final class ErrorFormatsTestController {

	private ErrorFormatsTestController() {
	}

	@RestController
	static class Api {

		@GetMapping("/api/v1/test/invalid-tier")
		void invalidTier() {
			throw new InvalidTierException("P0.reservedShare", "must be between 0 and 1");
		}

		@GetMapping("/api/v1/test/conflict")
		void conflict() {
			throw new ClusterConflictException("The class is in use", List.of("pod-a", "pod-b"));
		}

		@GetMapping("/api/v1/test/unavailable")
		void unavailable() {
			throw new ClusterUnavailableException("The Kubernetes API did not answer", 0,
					new IllegalStateException("secret internals"));
		}

		@GetMapping("/api/v1/test/denied")
		void denied() {
			throw new AccessDeniedException("no");
		}

		@GetMapping("/api/v1/test/store")
		void store() {
			throw new QueryTimeoutException("redis timed out at 10.0.0.1");
		}

		@GetMapping("/api/v1/test/bug")
		void bug() {
			throw new IllegalStateException("internal detail that must not leak");
		}

		@PostMapping("/api/v1/test/limits")
		Limits limits(@RequestBody Limits limits) {
			return limits;
		}

	}

	@RestController
	@OpenAiApi
	static class OpenAi {

		@GetMapping("/v1/test/not-found")
		void notFound() {
			throw new NotFoundException("model", "The model 'x' does not exist");
		}

		@GetMapping("/v1/test/retry")
		void retry() {
			throw new ClusterUnavailableException("busy", 503, null);
		}

		@GetMapping("/v1/test/bug")
		void bug() {
			throw new IllegalStateException("internal detail that must not leak");
		}

		@PostMapping("/v1/test/echo")
		Map<String, Object> echo(@RequestBody Map<String, Object> body) {
			return body;
		}

	}

}
