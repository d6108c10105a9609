package dev.tiergate.cost;

import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link TraceReader}, {@link TierAssignment} and {@link TimeScaling}.
 */
class TraceReaderTests {

	@Test
	void readsTheWholeAzureConversationTrace() {
		Trace trace = TraceReader.read(SharedTraces.require("azure-2023-conv.csv"));

		assertThat(trace.format()).isEqualTo(TraceFormat.AZURE_CSV);
		assertThat(trace.requests()).hasSize(19_366);
		assertThat(trace.start()).isEqualTo(Instant.parse("2023-11-16T18:15:46.680590Z"));
		assertThat(trace.requests().get(0)).isEqualTo(new TraceRequest(0, null, null, null, 374, 44));
		TraceRequest last = trace.requests().get(19_365);
		assertThat(last.promptTokens()).isEqualTo(197);
		assertThat(last.outputTokens()).isEqualTo(183);
		assertThat(trace.start().plusNanos(last.offsetNanos())).isEqualTo(Instant.parse("2023-11-16T19:14:08.402527Z"));
	}

	@Test
	void readsTheWholeAzureCodeTrace() {
		Trace trace = TraceReader.read(SharedTraces.require("azure-2023-code.csv"));

		assertThat(trace.requests()).hasSize(8_819);
		assertThat(trace.requests().get(0)).isEqualTo(new TraceRequest(0, null, null, null, 4_808, 10));
		TraceRequest last = trace.requests().get(8_818);
		assertThat(last.promptTokens()).isEqualTo(549);
		assertThat(last.outputTokens()).isEqualTo(173);
		assertThat(trace.start().plusNanos(last.offsetNanos())).isEqualTo(Instant.parse("2023-11-16T19:14:19.928016Z"));
	}

	@Test
	void azureRowsWithAMissingFieldAreRefusedWithTheirLineNumber() {
		String csv = """
				TIMESTAMP,ContextTokens,GeneratedTokens
				2023-11-16 18:15:46.6805900,374,44
				2023-11-16 18:15:50.9951690,396
				""";

		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("bad.csv", new StringReader(csv)))
			.withMessage("bad.csv line 3: expected 3 fields (TIMESTAMP,ContextTokens,GeneratedTokens), found 2")
			.satisfies((ex) -> assertThat(ex.line()).isEqualTo(3));
	}

	@Test
	void azureRowsWithBadNumbersOrTimesAreRefusedWithTheirLineNumber() {
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("bad.csv",
					new StringReader("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,-5,44\n")))
			.withMessage("bad.csv line 2: ContextTokens must be an integer of at least 0, was '-5'");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("bad.csv",
					new StringReader(
							"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,5,4\nyesterday,1,2\n")))
			.withMessageStartingWith("bad.csv line 3: TIMESTAMP must look like");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.readAzureCsv("bad.csv", new StringReader("time,in,out\n")))
			.withMessageStartingWith("bad.csv line 1: the header must be");
	}

	@Test
	void readsMooncakeJsonLinesInMilliseconds() throws Exception {
		String jsonl = """
				{"timestamp": 0, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}
				{"timestamp": 2500, "input_length": 100, "output_length": 7}
				""";

		Trace trace = TraceReader.read("mooncake.jsonl", new StringReader(jsonl));

		assertThat(trace.format()).isEqualTo(TraceFormat.MOONCAKE_JSONL);
		assertThat(trace.start()).isNull();
		assertThat(trace.requests()).containsExactly(new TraceRequest(0, null, null, null, 6955, 52),
				new TraceRequest(2_500_000_000L, null, null, null, 100, 7));
	}

	@Test
	void malformedMooncakeLinesAreRefusedWithTheirLineNumber() {
		String jsonl = """
				{"timestamp": 0, "input_length": 6955, "output_length": 52}
				{"timestamp": 10, "input_length": "many", "output_length": 52}
				""";

		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("m.jsonl", new StringReader(jsonl)))
			.withMessage("m.jsonl line 2: input_length must be an integer of at least 0, was \"many\"");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.readMooncakeJsonl("m.jsonl",
					new StringReader("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{oops\n")))
			.withMessage("m.jsonl line 2: not valid JSON");
	}

	@Test
	void readsTiergatesRequestLogWithTenantsTiersAndModels() throws Exception {
		String jsonl = """
				{"time":"2026-11-29T17:00:00.500Z","tenant":"acme","tier":"P0","model":"llama-3.1-8b-instruct","promptTokens":12,"completionTokens":16,"queueMs":0,"ttftMs":35.5,"durationMs":230}
				{"time":"2026-11-29T17:00:00Z","tenant":"batchco","tier":"P2","model":"qwen2.5-32b-instruct","promptTokens":900,"completionTokens":300}
				""";

		Trace trace = TraceReader.read("log.jsonl", new StringReader(jsonl));

		assertThat(trace.format()).isEqualTo(TraceFormat.TIERGATE_JSONL);
		assertThat(trace.start()).isEqualTo(Instant.parse("2026-11-29T17:00:00Z"));
		assertThat(trace.requests()).containsExactly(
				new TraceRequest(0, "batchco", Tier.P2, "qwen2.5-32b-instruct", 900, 300),
				new TraceRequest(500_000_000L, "acme", Tier.P0, "llama-3.1-8b-instruct", 12, 16));
	}

	@Test
	void tiergateLogLinesWithABadTierOrTimeAreRefusedWithTheirLineNumber() {
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.readTiergateJsonl("log.jsonl", new StringReader(
					"{\"time\":\"2026-11-29T17:00:00Z\",\"tier\":\"P7\",\"promptTokens\":1,\"completionTokens\":1}\n")))
			.withMessage("log.jsonl line 1: tier must be P0, P1 or P2, was \"P7\"");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.readTiergateJsonl("log.jsonl",
					new StringReader("\n{\"time\":\"noon\",\"promptTokens\":1,\"completionTokens\":1}\n")))
			.withMessageStartingWith("log.jsonl line 2: time must be an ISO-8601 instant");
	}

	@Test
	void readsTiergatesRequestLogAsCsvWithQuotedFieldsAndColumnsInAnyOrder() throws Exception {
		String csv = "tier,time,model,tenant,promptTokens,completionTokens,ttftMs\n"
				+ "P1,2026-11-29T17:00:01Z,\"org/model,v2\",\"a \"\"b\"\"\",40,0,12.5\n"
				+ "P0,2026-11-29T17:00:00Z,llama-3.1-8b-instruct,acme,12,16,\n";

		Trace trace = TraceReader.read("log.csv", new StringReader(csv));

		assertThat(trace.format()).isEqualTo(TraceFormat.TIERGATE_CSV);
		assertThat(trace.requests()).containsExactly(
				new TraceRequest(0, "acme", Tier.P0, "llama-3.1-8b-instruct", 12, 16),
				new TraceRequest(1_000_000_000L, "a \"b\"", Tier.P1, "org/model,v2", 40, 1));
	}

	@Test
	void tiergateCsvLinesThatBreakTheHeaderOrHoldBadValuesAreRefusedWithTheirLineNumber() {
		String header = "time,tenant,tier,model,promptTokens,completionTokens\n";
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("log.csv",
					new StringReader(
							header + "2026-11-29T17:00:00Z,acme,P0,m,1,1\n2026-11-29T17:00:01Z,acme,P0,m,1\n")))
			.withMessage("log.csv line 3: expected 6 fields as in the header, found 5");
		assertThatExceptionOfType(InvalidTraceException.class).isThrownBy(
				() -> TraceReader.read("log.csv", new StringReader(header + "2026-11-29T17:00:00Z,acme,P9,m,1,1\n")))
			.withMessage("log.csv line 2: tier must be P0, P1 or P2, was 'P9'");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("log.csv", new StringReader(header + "\nnoon,acme,P0,m,1,1\n")))
			.withMessageStartingWith("log.csv line 3: time must be an ISO-8601 instant");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.readTiergateCsv("log.csv", new StringReader("time,tenant,promptTokens\n")))
			.withMessageStartingWith(
					"log.csv line 1: the header must name the columns time, promptTokens and completionTokens");
	}

	@Test
	void unknownFormatsAndEmptyTracesAreRefused() {
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("x.txt", new StringReader("hello\n")))
			.withMessageStartingWith("x.txt line 1: unknown trace format");
		assertThatExceptionOfType(InvalidTraceException.class)
			.isThrownBy(() -> TraceReader.read("x.csv", new StringReader("TIMESTAMP,ContextTokens,GeneratedTokens\n")))
			.withMessage("x.csv: the trace has no request");
	}

	@Test
	void tierSharesAreDrawnWithTheSeedAndTenantsTakePrecedence() throws Exception {
		StringBuilder csv = new StringBuilder(TraceReader.AZURE_HEADER + "\n");
		for (int i = 0; i < 10_000; i++) {
			csv.append("2023-11-16 18:00:%02d.000,10,10\n".formatted(i % 60));
		}
		Trace trace = TraceReader.read("t.csv", new StringReader(csv.toString()));
		TierAssignment assignment = new TierAssignment(Map.of(Tier.P0, 0.1, Tier.P1, 0.2, Tier.P2, 0.7), Map.of(),
				false, 7);

		Trace tiered = assignment.apply(trace);

		long p0 = tiered.requests().stream().filter((r) -> r.tier() == Tier.P0).count();
		assertThat(p0).isBetween(900L, 1_100L);
		assertThat(assignment.apply(trace)).isEqualTo(tiered);
		assertThat(new TierAssignment(null, null, false, 8).apply(trace)).isNotEqualTo(tiered);
		TraceRequest fromAcme = new TraceRequest(0, "acme", null, null, 1, 1);
		TraceRequest tieredAlready = new TraceRequest(1, "other", Tier.P1, null, 1, 1);
		Trace withTenants = trace.withRequests(java.util.List.of(fromAcme, tieredAlready));
		assertThat(new TierAssignment(null, Map.of("acme", Tier.P0, "other", Tier.P2), false, 1).apply(withTenants)
			.requests()).extracting(TraceRequest::tier).containsExactly(Tier.P0, Tier.P1);
	}

	@Test
	void tierSharesMustSumToOne() {
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new TierAssignment(Map.of(Tier.P0, 0.5, Tier.P1, 0.2), Map.of(), false, 1))
			.withMessageContaining("shares must sum to 1");
		assertThat(TierAssignment.parseShares("P0=0.25, p1=0.25,P2=0.5")).containsEntry(Tier.P0, 0.25)
			.containsEntry(Tier.P1, 0.25);
		assertThatExceptionOfType(IllegalArgumentException.class).isThrownBy(() -> TierAssignment.parseShares("P9=1"))
			.withMessageContaining("unknown tier 'P9'");
	}

	@Test
	void timeScalingDividesArrivalsAndReachesATargetMonthlyVolume() {
		Trace trace = TraceReader.read(SharedTraces.require("azure-2023-conv.csv"));
		double perMonth = TimeScaling.monthlyVolume(trace);
		// 19,366 requests in 58 min 21.7 s, for 730 hours
		assertThat(perMonth).isCloseTo(19_366.0 * 730 * 3600 / 3501.721937, within(1.0));

		Trace fast = new TimeScaling(2).apply(trace);
		Trace monthly = TimeScaling.toMonthlyVolume(trace, 1_000_000).apply(trace);

		assertThat(fast.span()).isEqualTo(Duration.ofNanos(Math.round(trace.span().toNanos() / 2.0)));
		assertThat(TimeScaling.monthlyVolume(monthly)).isCloseTo(1_000_000, within(1.0));
	}

}
