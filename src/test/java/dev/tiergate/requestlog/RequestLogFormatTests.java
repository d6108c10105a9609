package dev.tiergate.requestlog;

import java.io.StringReader;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tiergate.cost.Trace;
import dev.tiergate.cost.TraceReader;
import dev.tiergate.cost.TraceRequest;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RequestLogFormat}: both formats read back through the simulator's
 * {@link TraceReader}, with names that need quoting or escaping.
 */
class RequestLogFormatTests {

	private static final List<RequestRecord> RECORDS = List.of(
			new RequestRecord(Instant.parse("2026-11-29T17:00:00.250Z"), "acme", Tier.P1, "llama", "completions", false,
					200, 300, 40, 0, 80.25, 400.5, RequestRecord.HOSTED),
			new RequestRecord(Instant.parse("2026-11-29T17:00:00.125Z"), "odd, \"quoted\"\tname", Tier.P0,
					"org/model,v2", "chat.completions", true, 200, 812, 96, 1.5, 61.2, 402.9, RequestRecord.FLEET));

	@Test
	void jsonLinesReadBackAsATraceOrderedByArrivalWithTheLoggedTiers() throws Exception {
		assertRoundTrip(RequestLogFormat.JSONL);
	}

	@Test
	void csvReadsBackAsATraceOrderedByArrivalWithTheLoggedTiers() throws Exception {
		assertThat(RequestLogFormat.CSV.header()).startsWith("time,tenant,tier,model,");
		assertRoundTrip(RequestLogFormat.CSV);
	}

	@Test
	void eachLineSaysWhereTheRequestWasServed() {
		assertThat(RequestLogFormat.CSV.header()).endsWith(",servedBy\n");
		assertThat(RequestLogFormat.CSV.line(RECORDS.get(0))).endsWith(",hosted\n");
		assertThat(RequestLogFormat.CSV.line(RECORDS.get(1))).endsWith(",fleet\n");
		assertThat(RequestLogFormat.JSONL.line(RECORDS.get(0))).endsWith(",\"servedBy\":\"hosted\"}\n");
	}

	@Test
	void formatsAreNamedByTheirExtensionInAnyCase() {
		assertThat(RequestLogFormat.parse("CSV")).contains(RequestLogFormat.CSV);
		assertThat(RequestLogFormat.parse("jsonl")).contains(RequestLogFormat.JSONL);
		assertThat(RequestLogFormat.parse("xml")).isEmpty();
	}

	private static void assertRoundTrip(RequestLogFormat format) throws Exception {
		StringBuilder text = new StringBuilder(format.header());
		RECORDS.forEach((record) -> text.append(format.line(record)));
		Trace trace = TraceReader.read("log", new StringReader(text.toString()));
		assertThat(trace.start()).isEqualTo(Instant.parse("2026-11-29T17:00:00.125Z"));
		assertThat(trace.requests()).containsExactly(
				new TraceRequest(0, "odd, \"quoted\"\tname", Tier.P0, "org/model,v2", 812, 96),
				new TraceRequest(125_000_000L, "acme", Tier.P1, "llama", 300, 40));
	}

}
