package dev.tiergate.security.internal;

import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.method.configuration.EnableMethodSecurity;

/**
 * Method security, for changes only an administrator may make: controllers mark them
 * {@code @PreAuthorize("hasRole('ADMIN')")} on top of what the URL rules already require.
 */
@Configuration(proxyBeanMethods = false)
@EnableMethodSecurity
class MethodSecurityConfiguration {

}
