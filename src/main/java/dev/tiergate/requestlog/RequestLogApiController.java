package dev.tiergate.requestlog;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.InvalidRequestException;
import dev.tiergate.problem.NotFoundException;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/v1/request-log?from=&to=&format=jsonl|csv&tenant=}: the request log
 * between two instants, streamed as JSON lines or CSV, a trace that
 * {@code simulate --trace} reads. Admin only: it names every tenant's traffic.
 */
@RestController
class RequestLogApiController {

	/** The longest span one export covers. */
	static final Duration MAX_SPAN = Duration.ofDays(31);

	private final ObjectProvider<RedisRequestLog> log;

	private final Clock clock;

	RequestLogApiController(ObjectProvider<RedisRequestLog> log, Clock clock) {
		this.log = log;
		this.clock = clock;
	}

	@GetMapping("/api/v1/request-log")
	@PreAuthorize("hasRole('ADMIN')")
	void export(@RequestParam(required = false) String from, @RequestParam(required = false) String to,
			@RequestParam(defaultValue = "jsonl") String format, @RequestParam(required = false) String tenant,
			HttpServletResponse response) throws IOException {
		RequestLogFormat as = RequestLogFormat.parse(format)
			.orElseThrow(() -> new InvalidRequestException("format", "must be jsonl or csv, was '" + format + "'"));
		Instant until = (to != null && !to.isBlank()) ? instant("to", to) : this.clock.instant();
		Instant since = (from != null && !from.isBlank()) ? instant("from", from) : until.minus(Duration.ofHours(1));
		if (since.isAfter(until)) {
			throw new InvalidRequestException("from", "must not be after to (" + since + " > " + until + ")");
		}
		if (Duration.between(since, until).compareTo(MAX_SPAN) > 0) {
			throw new InvalidRequestException("to", "an export covers at most 31 days; ask for less");
		}
		RedisRequestLog records = this.log.getIfAvailable();
		if (records == null) {
			throw new NotFoundException(null, "The request log is switched off (tiergate.request-log.enabled=false)");
		}
		String who = (tenant != null && !tenant.isBlank()) ? tenant.strip() : null;
		response.setContentType(as.mediaType());
		response.setCharacterEncoding(StandardCharsets.UTF_8.name());
		response.setHeader(HttpHeaders.CONTENT_DISPOSITION,
				"attachment; filename=\"tiergate-requests." + as.extension() + "\"");
		Writer out = new BufferedWriter(new OutputStreamWriter(response.getOutputStream(), StandardCharsets.UTF_8),
				64 * 1024);
		out.write(as.header());
		try {
			records.read(since, until, who, (record) -> {
				try {
					out.write(as.line(record));
				}
				catch (IOException ex) {
					throw new UncheckedIOException(ex);
				}
			});
		}
		catch (UncheckedIOException ex) {
			throw ex.getCause();
		}
		out.flush();
	}

	private static Instant instant(String field, String value) {
		try {
			return Instant.parse(value.strip());
		}
		catch (DateTimeParseException ex) {
			throw new InvalidRequestException(field,
					"must be an ISO-8601 instant such as 2026-11-29T17:00:00Z, was '" + value + "'");
		}
	}

}
