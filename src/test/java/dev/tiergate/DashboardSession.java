package dev.tiergate;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A dashboard session over plain HTTP, as a hand-made client (not the page) would use it:
 * signed in with the login form, reading pages and posting forms with the session's CSRF
 * token.
 *
 * @param client the client, with the session's cookie
 * @param base the application's base address
 * @param csrf the signed-in session's CSRF token
 */
public record DashboardSession(HttpClient client, URI base, String csrf) {

	/**
	 * Signs in with the login form.
	 * @param base the application's base address
	 * @param username the user
	 * @param password the password
	 * @return the signed-in session
	 * @throws Exception when a request fails
	 */
	public static DashboardSession signIn(URI base, String username, String password) throws Exception {
		HttpClient client = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
		String token = csrf(client
			.send(HttpRequest.newBuilder(base.resolve("/login")).build(), HttpResponse.BodyHandlers.ofString())
			.body());
		HttpResponse<String> login = client.send(HttpRequest.newBuilder(base.resolve("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers
				.ofString("username=" + username + "&password=" + password + "&_csrf=" + token))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(login.statusCode()).isEqualTo(302);
		assertThat(login.headers().firstValue("Location").orElseThrow()).doesNotContain("error");
		// The token of the signed-in session, from the sign-out form every page carries.
		String sessionToken = csrf(
				client.send(HttpRequest.newBuilder(base.resolve("/")).build(), HttpResponse.BodyHandlers.ofString())
					.body());
		return new DashboardSession(client, base, sessionToken);
	}

	/**
	 * Reads a page.
	 * @param path the page's path
	 * @return the answer
	 * @throws Exception when the request fails
	 */
	public HttpResponse<String> get(String path) throws Exception {
		return this.client.send(HttpRequest.newBuilder(this.base.resolve(path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	/**
	 * Posts a form with the session's CSRF token.
	 * @param path the form's action
	 * @param form the form's fields, URL-encoded ({@code ""} for none)
	 * @return the answer
	 * @throws Exception when the request fails
	 */
	public HttpResponse<String> post(String path, String form) throws Exception {
		String body = (form.isEmpty() ? "" : form + "&") + "_csrf="
				+ URLEncoder.encode(this.csrf, StandardCharsets.UTF_8);
		return this.client.send(HttpRequest.newBuilder(this.base.resolve(path))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static String csrf(String page) {
		Matcher token = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(page);
		assertThat(token.find()).as("a CSRF token in the page").isTrue();
		return token.group(1);
	}

}
