package dev.tiergate.security.internal;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.access.hierarchicalroles.RoleHierarchyImpl;
import org.springframework.security.config.ObjectPostProcessor;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfException;
import org.springframework.security.web.header.HeaderWriterFilter;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

import dev.tiergate.quota.TenantStore;
import dev.tiergate.security.OperatorStore;
import dev.tiergate.security.Role;
import dev.tiergate.security.SecurityProperties;

/**
 * Who may reach what.
 * <ul>
 * <li>Actuator (management port): health, info and prometheus only, unauthenticated, as
 * probes and scrapers expect.
 * <li>{@code /v1/**}: tenant API keys only.
 * <li>{@code /api/**} and the OpenAPI document ({@code /v3/api-docs}): operators by HTTP
 * Basic, or CI tokens by bearer; stateless, so no CSRF surface.
 * <li>Everything else: the dashboard, behind a form login with CSRF protection.
 * </ul>
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(SecurityConfiguration.class);

	/**
	 * No observation around every filter of every chain, every authentication and every
	 * authorization: they made camelCase meters with no help text, four series per
	 * filter, and wrapped each filter of every request (part of the 11% of the front
	 * door's samples Micrometer took, docs/benchmarks.md). Tiergate's own tiergate_*
	 * series and http_server_requests say what operators need.
	 */
	@Bean
	SecurityObservationSettings securityObservationSettings() {
		return SecurityObservationSettings.noObservations();
	}

	/**
	 * The management port (and the actuator's paths wherever they are served): what it
	 * exposes is open to in-cluster probes and scrapers, anything else is the actuator's
	 * own 404; no login page, no redirect, no session.
	 */
	@Bean
	@Order(1)
	SecurityFilterChain actuatorSecurity(HttpSecurity http, Environment environment) throws Exception {
		ManagementPort port = new ManagementPort(environment);
		RequestMatcher managementPort = (request) -> port.is(request.getLocalPort());
		return http.securityMatcher(new OrRequestMatcher(managementPort, EndpointRequest.toAnyEndpoint()))
			.authorizeHttpRequests((requests) -> requests.anyRequest().permitAll())
			.csrf((csrf) -> csrf.disable())
			.sessionManagement((session) -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			.requestCache((cache) -> cache.disable())
			.exceptionHandling((exceptions) -> exceptions.authenticationEntryPoint((request, response,
					ex) -> ErrorBodies.problem(response, 401, "Unauthorized", "Not authenticated.")))
			.build();
	}

	/**
	 * The OpenAI API ({@code /v1/**}), the front door's hot path: a tenant key or a 401,
	 * and the default security headers, with nothing else on the way. The key filter is
	 * the one gate: it refuses every request without a valid key, whatever the path, and
	 * clears the security context when the request ends. So there is no authorization
	 * filter (its one rule was "a tenant"), no exception translation (nothing here throws
	 * Spring Security's exceptions), no session management or URL-encoding guard (no
	 * session is ever made), no security-context holder filter and no anonymous user,
	 * servlet-API wrapper or logout URL: each was work on every request (the chain's
	 * filters were 13% of the front door's CPU samples, docs/benchmarks.md). Its matcher
	 * is asked first (it is the cheapest and the busiest). The completions run this
	 * chain's filters without the filter chain proxy, through {@code web.CompletionsLane}
	 * (the bean's name is how it finds them): a filter added here guards them too.
	 */
	@Bean
	@Order(0)
	SecurityFilterChain tenantApiSecurity(HttpSecurity http, TenantStore tenants) throws Exception {
		http.securityMatcher("/v1/**")
			.addFilterBefore(new TenantKeyAuthenticationFilter(tenants), AnonymousAuthenticationFilter.class)
			// written before the request is served, not when its response is committed:
			// no wrapper around every response, and a handler may still set its own
			// Cache-Control
			.headers((headers) -> headers.addObjectPostProcessor(new ObjectPostProcessor<HeaderWriterFilter>() {
				@Override
				public <O extends HeaderWriterFilter> O postProcess(O filter) {
					filter.setShouldWriteHeadersEagerly(true);
					return filter;
				}
			}))
			.csrf((csrf) -> csrf.disable())
			.sessionManagement((session) -> session.disable())
			.securityContext((context) -> context.disable())
			.exceptionHandling((exceptions) -> exceptions.disable())
			.requestCache((cache) -> cache.disable())
			.anonymous((anonymous) -> anonymous.disable())
			.servletApi((servletApi) -> servletApi.disable())
			.logout((logout) -> logout.disable());
		return http.build();
	}

	@Bean
	@Order(2)
	SecurityFilterChain operatorApiSecurity(HttpSecurity http, OperatorStore operators) throws Exception {
		return http.securityMatcher("/api/**", "/v3/api-docs", "/v3/api-docs/**")
			.addFilterBefore(new ApiTokenAuthenticationFilter(operators), BasicAuthenticationFilter.class)
			.addFilterBefore(new CrossSiteRequestFilter(), ApiTokenAuthenticationFilter.class)
			.httpBasic((basic) -> basic.realmName("tiergate").authenticationEntryPoint((request, response, ex) -> {
				response.setHeader("WWW-Authenticate", "Basic realm=\"tiergate\"");
				ErrorBodies.problem(response, 401, "Unauthorized",
						"Authenticate with HTTP Basic (operator) or a bearer token (CI).");
			}))
			.authorizeHttpRequests((requests) -> requests.requestMatchers(HttpMethod.GET, "/api/**")
				.hasRole(Role.VIEWER.name())
				.anyRequest()
				.hasRole(Role.OPERATOR.name()))
			.exceptionHandling((exceptions) -> exceptions.accessDeniedHandler((request, response, ex) -> ErrorBodies
				.problem(response, 403, "Forbidden", "Your role does not allow this operation.")))
			.csrf((csrf) -> csrf.disable())
			.sessionManagement((session) -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			.requestCache((cache) -> cache.disable())
			.build();
	}

	@Bean
	@Order(3)
	SecurityFilterChain dashboardSecurity(HttpSecurity http) throws Exception {
		return http
			.authorizeHttpRequests((requests) -> requests
				.requestMatchers("/livez", "/readyz", "/login", "/error", "/webjars/**", "/css/**", "/js/**",
						"/favicon.ico")
				.permitAll()
				.requestMatchers(HttpMethod.GET, "/**")
				.hasRole(Role.VIEWER.name())
				.requestMatchers(HttpMethod.HEAD, "/**")
				.hasRole(Role.VIEWER.name())
				// Dashboard changes need at least an operator; pages that change the
				// cluster also check ADMIN.
				.anyRequest()
				.hasRole(Role.OPERATOR.name()))
			.exceptionHandling((exceptions) -> exceptions
				.accessDeniedHandler((request, response, ex) -> ErrorBodies.problem(response, 403, "Forbidden",
						(ex instanceof CsrfException) ? "The form's CSRF token is missing or stale; reload the page."
								: "Your role does not allow this operation.")))
			// No session before login: the page a signed-out visitor asked for is kept in
			// a cookie, and so is the login form's CSRF token, so anonymous requests cost
			// the server no memory (a page whose address is too long for a cookie is not
			// kept).
			.requestCache((cache) -> cache.requestCache(new ShortUrlCookieRequestCache()))
			.csrf((csrf) -> csrf.csrfTokenRepository(new CookieCsrfTokenRepository()))
			.addFilterAfter(new EagerCsrfCookieFilter(), BasicAuthenticationFilter.class)
			.sessionManagement((session) -> session.sessionCreationPolicy(SessionCreationPolicy.IF_REQUIRED))
			.formLogin((form) -> form.loginPage("/login").permitAll())
			.logout((logout) -> logout.logoutSuccessUrl("/login?logout"))
			.headers((headers) -> headers.contentSecurityPolicy((csp) -> csp.policyDirectives(
					"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")))
			.build();
	}

	@Bean
	static RoleHierarchy roleHierarchy() {
		return RoleHierarchyImpl.withDefaultRolePrefix()
			.role(Role.ADMIN.name())
			.implies(Role.OPERATOR.name())
			.role(Role.OPERATOR.name())
			.implies(Role.VIEWER.name())
			.build();
	}

	@Bean
	PasswordEncoder passwordEncoder() {
		return PasswordEncoderFactories.createDelegatingPasswordEncoder();
	}

	@Bean
	OperatorStore operatorStore(StringRedisTemplate redis, Clock clock) {
		return new OperatorStore(redis, clock);
	}

	@Bean
	UserDetailsService operatorDetailsService(OperatorStore operators) {
		return (username) -> operators.find(username)
			.map((operator) -> User.withUsername(operator.username())
				.password(operator.passwordHash())
				.roles(operator.role().name())
				.build())
			.orElseThrow(() -> new UsernameNotFoundException("No such operator"));
	}

	@Bean
	ApplicationRunner bootstrapAdmin(SecurityProperties properties, OperatorStore operators) {
		return (args) -> {
			SecurityProperties.Admin admin = properties.admin();
			if (!admin.passwordHash().isBlank()) {
				operators.save(new OperatorStore.Operator(admin.username(), admin.passwordHash(), Role.ADMIN));
				logger.info("Bootstrap administrator '{}' is configured", admin.username());
			}
		};
	}

	/**
	 * Whether a request came in on the management port: the ports are known once the
	 * servers have started, and are read once then rather than on every request.
	 */
	static final class ManagementPort {

		private final Environment environment;

		private volatile int port = -1;

		ManagementPort(Environment environment) {
			this.environment = environment;
		}

		boolean is(int localPort) {
			int management = this.port;
			if (management == -1) {
				Integer configured = this.environment.getProperty("local.management.port", Integer.class);
				Integer server = this.environment.getProperty("local.server.port", Integer.class);
				if (configured == null || server == null) {
					// Not started yet (or no separate management server): ask again next
					// time.
					return configured != null && !configured.equals(server) && localPort == configured;
				}
				management = configured.equals(server) ? 0 : configured;
				this.port = management;
			}
			return management != 0 && localPort == management;
		}

	}

}
