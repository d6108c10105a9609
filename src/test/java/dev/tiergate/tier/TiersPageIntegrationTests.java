package dev.tiergate.tier;

import java.net.CookieManager;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.FleetIntegrationTestSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TiersPageController}: the Tiers page shows each tier's reserve
 * placement, and an operator moves P0's reserve to whole endpoints with its form.
 */
class TiersPageIntegrationTests extends FleetIntegrationTestSupport {

	private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

	@Autowired
	private Tiers tiers;

	@AfterEach
	void restoreDefaults() {
		TierDefinition p0 = TierProperties.DEFAULTS.get(Tier.P0);
		this.tiers.update(Map.of(Tier.P0, new TierProperties.Override(null, null, null, null, null, null,
				p0.reservePlacement(), p0.borrowPerEndpoint())));
	}

	private HttpClient signedIn(String user) throws Exception {
		HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
		Matcher csrf = CSRF
			.matcher(browser.send(HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
				.body());
		assertThat(csrf.find()).isTrue();
		HttpResponse<String> login = browser.send(HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers
				.ofString("username=" + user + "&password=" + user + "&_csrf=" + csrf.group(1)))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(login.statusCode()).isEqualTo(302);
		return browser;
	}

	@Test
	void anOperatorMovesP0sReserveToWholeEndpoints() throws Exception {
		HttpClient browser = signedIn("admin");
		String page = browser.send(HttpRequest.newBuilder(uri("/tiers")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(page).contains("data-tier=\"P0\"").contains("<td class=\"placement\">slots</td>");
		Matcher csrf = CSRF.matcher(page);
		assertThat(csrf.find()).isTrue();
		HttpResponse<String> changed = browser.send(HttpRequest.newBuilder(uri("/tiers/P0/placement"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers
				.ofString("reservePlacement=endpoints&borrowPerEndpoint=1&_csrf=" + csrf.group(1)))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(changed.statusCode()).isEqualTo(302);
		assertThat(this.tiers.get(Tier.P0).reservePlacement()).isEqualTo(ReservePlacement.ENDPOINTS);
		assertThat(this.tiers.get(Tier.P0).borrowPerEndpoint()).isEqualTo(1);
		assertThat(browser.send(HttpRequest.newBuilder(uri("/tiers")).build(), HttpResponse.BodyHandlers.ofString())
			.body()).contains("<td class=\"placement\">endpoints</td>").contains("reserve is now on endpoints");
	}

	@Test
	void viewersSeeTheTiersWithoutTheForm() throws Exception {
		String page = signedIn("viewer")
			.send(HttpRequest.newBuilder(uri("/tiers")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(page).contains("data-tier=\"P2\"").doesNotContain("/tiers/P0/placement");
	}

}
