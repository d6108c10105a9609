package dev.tiergate.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.ClusterObjectNotFoundException;
import dev.tiergate.cluster.ClusterUnavailableException;
import dev.tiergate.cluster.InvalidClusterChangeException;

/**
 * Problem details for cluster changes: 400 naming the field, 404, 409 listing what
 * conflicts, 503 when the Kubernetes API fails, and 403 when method security refuses a
 * change (which would otherwise reach the generic handler as a 500).
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class ClusterErrorResponses {

	private static final Logger logger = LoggerFactory.getLogger(ClusterErrorResponses.class);

	@ExceptionHandler(InvalidClusterChangeException.class)
	ResponseEntity<ProblemDetail> invalid(InvalidClusterChangeException ex) {
		ProblemDetail problem = problem(HttpStatus.BAD_REQUEST, ex.field() + ": " + ex.getMessage(),
				ProblemTypes.INVALID_REQUEST);
		problem.setProperty("field", ex.field());
		return respond(problem);
	}

	@ExceptionHandler(ClusterObjectNotFoundException.class)
	ResponseEntity<ProblemDetail> notFound(ClusterObjectNotFoundException ex) {
		return respond(problem(HttpStatus.NOT_FOUND, ex.getMessage(), ProblemTypes.NOT_FOUND));
	}

	@ExceptionHandler(ClusterConflictException.class)
	ResponseEntity<ProblemDetail> conflict(ClusterConflictException ex) {
		ProblemDetail problem = problem(HttpStatus.CONFLICT, ex.getMessage(), ProblemTypes.CONFLICT);
		problem.setProperty("conflicts", ex.conflicts());
		return respond(problem);
	}

	@ExceptionHandler(ClusterUnavailableException.class)
	ResponseEntity<ProblemDetail> unavailable(ClusterUnavailableException ex) {
		logger.warn("{}", ex.getMessage());
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
			.header("Retry-After", "5")
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem(HttpStatus.SERVICE_UNAVAILABLE, ex.getMessage(), ProblemTypes.UNAVAILABLE));
	}

	@ExceptionHandler(AccessDeniedException.class)
	ResponseEntity<ProblemDetail> denied(AccessDeniedException ex) {
		return respond(
				problem(HttpStatus.FORBIDDEN, "Your role does not allow this operation.", ProblemTypes.FORBIDDEN));
	}

	static ProblemDetail problem(HttpStatus status, String detail, java.net.URI type) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setType(type);
		return problem;
	}

	private static ResponseEntity<ProblemDetail> respond(ProblemDetail problem) {
		return ResponseEntity.status(problem.getStatus()).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
	}

}
