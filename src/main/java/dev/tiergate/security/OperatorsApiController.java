package dev.tiergate.security;

import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.springframework.http.HttpStatus;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

import dev.tiergate.audit.AuditLog;

/**
 * Operators and CI tokens, for administrators: {@code /api/v1/operators} (people, HTTP
 * Basic or the dashboard) and {@code /api/v1/tokens} (bearer tokens for CI, shown once,
 * stored hashed, revoked at once).
 */
@RestController
@PreAuthorize("hasRole('ADMIN')")
class OperatorsApiController {

	private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

	private static final int MIN_PASSWORD = 12;

	private final OperatorStore operators;

	private final PasswordEncoder encoder;

	private final AuditLog audit;

	OperatorsApiController(OperatorStore operators, PasswordEncoder encoder, AuditLog audit) {
		this.operators = operators;
		this.encoder = encoder;
		this.audit = audit;
	}

	/**
	 * An operator to create or replace.
	 *
	 * @param password the password, at least 12 characters
	 * @param role {@code VIEWER}, {@code OPERATOR} or {@code ADMIN}
	 */
	record OperatorRequest(String password, String role) {
	}

	/**
	 * A token to make.
	 *
	 * @param name what it is for, unique
	 * @param role {@code VIEWER}, {@code OPERATOR} or {@code ADMIN}
	 */
	record TokenRequest(String name, String role) {
	}

	@GetMapping("/api/v1/operators")
	List<Map<String, Object>> operators() {
		return this.operators.findAll()
			.stream()
			.map((o) -> Map.<String, Object>of("username", o.username(), "role", o.role().name()))
			.toList();
	}

	@PutMapping("/api/v1/operators/{username}")
	Map<String, Object> putOperator(@PathVariable String username, @RequestBody OperatorRequest body) {
		requireName("username", username);
		if (body == null || body.password() == null || body.password().length() < MIN_PASSWORD) {
			throw invalid("password: must be at least " + MIN_PASSWORD + " characters");
		}
		Role role = role(body.role());
		String before = this.operators.find(username).map((o) -> o.role().name()).orElse(null);
		this.operators.save(new OperatorStore.Operator(username, this.encoder.encode(body.password()), role));
		this.audit.record("operator", (before != null) ? "update" : "create", username, before, role.name());
		return Map.of("username", username, "role", role.name());
	}

	@DeleteMapping("/api/v1/operators/{username}")
	@ResponseStatus(HttpStatus.NO_CONTENT)
	void deleteOperator(@PathVariable String username, Principal principal) {
		if (principal != null && username.equals(principal.getName())) {
			throw new ResponseStatusException(HttpStatus.CONFLICT,
					"You cannot delete the account you are signed in with.");
		}
		String before = this.operators.find(username).map((o) -> o.role().name()).orElse(null);
		if (!this.operators.delete(username)) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "No operator '" + username + "'.");
		}
		this.audit.record("operator", "delete", username, before, null);
	}

	@GetMapping("/api/v1/tokens")
	List<Map<String, Object>> tokens() {
		return this.operators.tokens()
			.stream()
			.map((t) -> Map.<String, Object>of("name", t.name(), "role", t.role().name(), "created",
					t.created().toString()))
			.toList();
	}

	@PostMapping("/api/v1/tokens")
	@ResponseStatus(HttpStatus.CREATED)
	Map<String, Object> createToken(@RequestBody TokenRequest body) {
		if (body == null) {
			throw invalid("body: must be {\"name\": ..., \"role\": ...}");
		}
		requireName("name", body.name());
		Role role = role(body.role());
		String token = this.operators.createToken(body.name(), role)
			.orElseThrow(() -> new ResponseStatusException(HttpStatus.CONFLICT,
					"A token named '" + body.name() + "' exists; revoke it first or pick another name."));
		this.audit.record("token", "create", body.name(), null, role.name());
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("name", body.name());
		result.put("role", role.name());
		result.put("token", token);
		result.put("note", "Store the token now: it is not shown again.");
		return result;
	}

	@DeleteMapping("/api/v1/tokens/{name}")
	@ResponseStatus(HttpStatus.NO_CONTENT)
	void revokeToken(@PathVariable String name) {
		if (!this.operators.revokeToken(name)) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "No token named '" + name + "'.");
		}
		this.audit.record("token", "revoke", name, null, null);
	}

	private static void requireName(String field, String value) {
		if (value == null || !NAME.matcher(value).matches()) {
			throw invalid(field + ": must match " + NAME.pattern());
		}
	}

	private static Role role(String value) {
		try {
			return Role.valueOf((value != null) ? value.strip().toUpperCase(Locale.ROOT) : "");
		}
		catch (IllegalArgumentException ex) {
			throw invalid("role: must be VIEWER, OPERATOR or ADMIN");
		}
	}

	private static ResponseStatusException invalid(String message) {
		return new ResponseStatusException(HttpStatus.BAD_REQUEST, message);
	}

}
