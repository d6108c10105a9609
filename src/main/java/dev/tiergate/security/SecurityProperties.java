package dev.tiergate.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;

/**
 * Operator authentication settings. There is no default password: without
 * {@code admin.password-hash} no operator exists until one is created in Redis.
 *
 * @param admin the bootstrap administrator, created or updated at start when a password
 * hash is given
 */
@Validated
@ConfigurationProperties("tiergate.security")
public record SecurityProperties(@DefaultValue Admin admin) {

	/**
	 * The bootstrap administrator.
	 *
	 * @param username login name
	 * @param passwordHash password hash in Spring Security's format, e.g.
	 * {@code {bcrypt}$2a$10$...}; empty means no bootstrap administrator
	 */
	public record Admin(@DefaultValue("admin") @NotBlank String username, @DefaultValue("") String passwordHash) {
	}

}
