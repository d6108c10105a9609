package dev.tiergate.cost;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import dev.tiergate.tier.Tier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads request traces in the {@link TraceFormat formats} Tiergate knows, refusing a
 * malformed one with the line at fault. Requests come out ordered by arrival (a stable
 * sort, so rows with the same time keep their order).
 */
public final class TraceReader {

	/** The Azure trace's header. */
	public static final String AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";

	private static final DateTimeFormatter AZURE_TIME = new DateTimeFormatterBuilder()
		.appendPattern("yyyy-MM-dd HH:mm:ss")
		.optionalStart()
		.appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
		.optionalEnd()
		.toFormatter(Locale.ROOT);

	/** Made on first use, so that reading a CSV trace does not pay for it. */
	private static final class Json {

		private static final JsonMapper MAPPER = JsonMapper.builder().build();

	}

	private TraceReader() {
	}

	/**
	 * Reads a trace file, its format told by its content: a first line equal to the Azure
	 * header is Azure CSV, a CSV header naming {@code time} and {@code promptTokens}
	 * Tiergate's log as CSV; JSON lines with {@code input_length} are Mooncake, with
	 * {@code promptTokens} Tiergate's log.
	 * @param file the file
	 * @return the trace
	 * @throws InvalidTraceException if it is malformed or its format is unknown
	 * @throws UncheckedIOException if it cannot be read
	 */
	public static Trace read(Path file) {
		String name = file.getFileName().toString();
		try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
			return read(name, in);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read trace " + file + ": " + ex.getMessage(), ex);
		}
	}

	/**
	 * Reads a trace, its format told by its content (see {@link #read(Path)}).
	 * @param name the trace's name, for messages
	 * @param reader the text
	 * @return the trace
	 * @throws IOException if reading fails
	 */
	public static Trace read(String name, Reader reader) throws IOException {
		BufferedReader in = buffered(reader);
		in.mark(64 * 1024);
		String first = in.readLine();
		in.reset();
		if (first == null || first.isBlank()) {
			throw new InvalidTraceException(name, 1, "the trace is empty");
		}
		String stripped = stripBom(first).strip();
		if (stripped.startsWith("TIMESTAMP")) {
			return readAzureCsv(name, in);
		}
		if (!stripped.startsWith("{") && csvFields(stripped).containsAll(List.of("time", "promptTokens"))) {
			return readTiergateCsv(name, in);
		}
		if (stripped.startsWith("{")) {
			if (stripped.contains("\"input_length\"")) {
				return readMooncakeJsonl(name, in);
			}
			if (stripped.contains("\"promptTokens\"")) {
				return readTiergateJsonl(name, in);
			}
		}
		throw new InvalidTraceException(name, 1, "unknown trace format: expected the Azure header '" + AZURE_HEADER
				+ "', Mooncake JSON lines (input_length) or Tiergate's request log (promptTokens, JSON lines or CSV)");
	}

	/**
	 * Reads an Azure LLM inference trace.
	 * @param name the trace's name, for messages
	 * @param reader the CSV text
	 * @return the trace
	 * @throws IOException if reading fails
	 */
	public static Trace readAzureCsv(String name, Reader reader) throws IOException {
		BufferedReader in = buffered(reader);
		String header = in.readLine();
		if (header == null || !stripBom(header).strip().equals(AZURE_HEADER)) {
			throw new InvalidTraceException(name, 1, "the header must be '" + AZURE_HEADER + "', was '"
					+ ((header != null) ? header.strip() : "") + "'");
		}
		List<Row> rows = rows(in, 1, (number, line) -> {
			String[] fields = line.split(",", -1);
			if (fields.length != 3) {
				throw new InvalidTraceException(name, number,
						"expected 3 fields (" + AZURE_HEADER + "), found " + fields.length);
			}
			long time = azureTime(name, number, fields[0].strip());
			int prompt = integer(name, number, "ContextTokens", fields[1], 0);
			int output = integer(name, number, "GeneratedTokens", fields[2], 0);
			return new Row(time, null, null, null, prompt, Math.max(1, output));
		});
		return trace(name, TraceFormat.AZURE_CSV, rows, true);
	}

	/**
	 * Reads a Mooncake-style trace.
	 * @param name the trace's name, for messages
	 * @param reader the JSON lines
	 * @return the trace
	 * @throws IOException if reading fails
	 */
	public static Trace readMooncakeJsonl(String name, Reader reader) throws IOException {
		BufferedReader in = buffered(reader);
		List<Row> rows = rows(in, 0, (number, line) -> {
			JsonNode row = object(name, number, line);
			double timestamp = number(name, number, row, "timestamp");
			if (timestamp < 0) {
				throw new InvalidTraceException(name, number, "timestamp must be zero or more, was " + timestamp);
			}
			int prompt = integer(name, number, row, "input_length", 0);
			int output = integer(name, number, row, "output_length", 0);
			JsonNode hashes = row.get("hash_ids");
			if (hashes != null && !hashes.isNull() && !hashes.isArray()) {
				throw new InvalidTraceException(name, number, "hash_ids must be an array of integers");
			}
			return new Row(Math.round(timestamp * 1_000_000), null, null, null, prompt, Math.max(1, output));
		});
		return trace(name, TraceFormat.MOONCAKE_JSONL, rows, false);
	}

	/**
	 * Reads Tiergate's request log.
	 * @param name the trace's name, for messages
	 * @param reader the JSON lines
	 * @return the trace
	 * @throws IOException if reading fails
	 */
	public static Trace readTiergateJsonl(String name, Reader reader) throws IOException {
		BufferedReader in = buffered(reader);
		List<Row> rows = rows(in, 0, (number, line) -> {
			JsonNode row = object(name, number, line);
			JsonNode timeNode = row.get("time");
			if (timeNode == null || !timeNode.isString()) {
				throw new InvalidTraceException(name, number, "time must be an ISO-8601 instant string");
			}
			Instant time;
			try {
				time = Instant.parse(timeNode.stringValue());
			}
			catch (DateTimeParseException ex) {
				throw new InvalidTraceException(name, number,
						"time must be an ISO-8601 instant such as 2026-11-29T17:00:00.125Z, was '"
								+ timeNode.stringValue() + "'");
			}
			Tier tier = null;
			JsonNode tierNode = row.get("tier");
			if (tierNode != null && !tierNode.isNull()) {
				tier = Tier.parse(tierNode.asString("")).orElse(null);
				if (tier == null || !tierNode.isString()) {
					throw new InvalidTraceException(name, number, "tier must be P0, P1 or P2, was " + tierNode);
				}
			}
			int prompt = integer(name, number, row, "promptTokens", 0);
			int output = integer(name, number, row, "completionTokens", 0);
			for (String measured : List.of("queueMs", "ttftMs", "durationMs")) {
				JsonNode value = row.get(measured);
				if (value != null && !value.isNull() && !(value.isNumber() && value.asDouble() >= 0)) {
					throw new InvalidTraceException(name, number, measured + " must be a number of at least 0");
				}
			}
			return new Row(time.getEpochSecond() * 1_000_000_000L + time.getNano(), text(row, "tenant"), tier,
					text(row, "model"), prompt, Math.max(1, output));
		});
		return trace(name, TraceFormat.TIERGATE_JSONL, rows, true);
	}

	/**
	 * Reads Tiergate's request log exported as CSV
	 * ({@code GET /api/v1/request-log?format=csv}): a header naming the columns, of which
	 * {@code time}, {@code promptTokens} and {@code completionTokens} are required and
	 * {@code tenant}, {@code tier}, {@code model} are read when present; fields may be
	 * quoted as in RFC 4180.
	 * @param name the trace's name, for messages
	 * @param reader the CSV text
	 * @return the trace
	 * @throws IOException if reading fails
	 */
	public static Trace readTiergateCsv(String name, Reader reader) throws IOException {
		BufferedReader in = buffered(reader);
		String header = in.readLine();
		List<String> columns = (header != null) ? csvFields(stripBom(header).strip()) : List.of();
		int time = columns.indexOf("time");
		int prompt = columns.indexOf("promptTokens");
		int output = columns.indexOf("completionTokens");
		if (time < 0 || prompt < 0 || output < 0) {
			throw new InvalidTraceException(name, 1,
					"the header must name the columns time, promptTokens and completionTokens, was '"
							+ ((header != null) ? header.strip() : "") + "'");
		}
		int tenant = columns.indexOf("tenant");
		int tierColumn = columns.indexOf("tier");
		int model = columns.indexOf("model");
		List<Row> rows = rows(in, 1, (number, line) -> {
			List<String> fields = csvFields(line);
			if (fields.size() != columns.size()) {
				throw new InvalidTraceException(name, number,
						"expected " + columns.size() + " fields as in the header, found " + fields.size());
			}
			Instant at = instant(name, number, fields.get(time));
			Tier tier = null;
			if (tierColumn >= 0 && !fields.get(tierColumn).isBlank()) {
				String text = fields.get(tierColumn).strip();
				tier = Tier.parse(text).orElse(null);
				if (tier == null) {
					throw new InvalidTraceException(name, number, "tier must be P0, P1 or P2, was '" + text + "'");
				}
			}
			return new Row(at.getEpochSecond() * 1_000_000_000L + at.getNano(), blankToNull(fields, tenant), tier,
					blankToNull(fields, model), integer(name, number, "promptTokens", fields.get(prompt), 0),
					Math.max(1, integer(name, number, "completionTokens", fields.get(output), 0)));
		});
		return trace(name, TraceFormat.TIERGATE_CSV, rows, true);
	}

	/** Parses one non-blank line of a trace into its row. */
	@FunctionalInterface
	private interface LineParser {

		Row parse(long number, String line) throws IOException;

	}

	private static BufferedReader buffered(Reader reader) {
		return (reader instanceof BufferedReader buffered) ? buffered : new BufferedReader(reader);
	}

	/**
	 * The rows of every non-blank line from here on, numbered from the line after
	 * {@code number} (1-based, for messages).
	 */
	private static List<Row> rows(BufferedReader in, long number, LineParser parser) throws IOException {
		List<Row> rows = new ArrayList<>();
		String line;
		while ((line = in.readLine()) != null) {
			number++;
			if (!line.isBlank()) {
				rows.add(parser.parse(number, line));
			}
		}
		return rows;
	}

	private static Instant instant(String name, long number, String text) {
		try {
			return Instant.parse(text.strip());
		}
		catch (DateTimeParseException ex) {
			throw new InvalidTraceException(name, number,
					"time must be an ISO-8601 instant such as 2026-11-29T17:00:00.125Z, was '" + text.strip() + "'");
		}
	}

	private static String blankToNull(List<String> fields, int column) {
		return (column >= 0 && !fields.get(column).isBlank()) ? fields.get(column).strip() : null;
	}

	/** The fields of one CSV line, quoted fields unquoted (RFC 4180, no line breaks). */
	static List<String> csvFields(String line) {
		List<String> fields = new ArrayList<>();
		StringBuilder field = new StringBuilder();
		boolean quoted = false;
		for (int i = 0; i < line.length(); i++) {
			char c = line.charAt(i);
			if (quoted) {
				if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
					field.append('"');
					i++;
				}
				else if (c == '"') {
					quoted = false;
				}
				else {
					field.append(c);
				}
			}
			else if (c == '"' && field.isEmpty()) {
				quoted = true;
			}
			else if (c == ',') {
				fields.add(field.toString());
				field.setLength(0);
			}
			else {
				field.append(c);
			}
		}
		fields.add(field.toString());
		return fields;
	}

	/**
	 * Epoch nanoseconds of an Azure timestamp: the common shape
	 * {@code yyyy-MM-dd HH:mm:ss.fffffff} is parsed by hand (the formatter costs a
	 * noticeable part of a short simulation), anything else by the formatter.
	 */
	private static long azureTime(String name, long number, String text) {
		if (text.length() >= 19 && text.length() <= 29 && text.charAt(4) == '-' && text.charAt(7) == '-'
				&& text.charAt(10) == ' ' && text.charAt(13) == ':' && text.charAt(16) == ':'
				&& (text.length() == 19 || text.charAt(19) == '.')) {
			try {
				int year = digits(text, 0, 4);
				int month = digits(text, 5, 7);
				int day = digits(text, 8, 10);
				int hour = digits(text, 11, 13);
				int minute = digits(text, 14, 16);
				int second = digits(text, 17, 19);
				long nanos = 0;
				int fraction = text.length() - 20;
				if (fraction > 0) {
					nanos = digits(text, 20, text.length());
					for (int i = fraction; i < 9; i++) {
						nanos *= 10;
					}
				}
				if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60) {
					long epochDay = java.time.LocalDate.of(year, month, day).toEpochDay();
					return ((epochDay * 24 + hour) * 60 + minute) * 60_000_000_000L + second * 1_000_000_000L + nanos;
				}
			}
			catch (NumberFormatException | java.time.DateTimeException ex) {
				// not the common shape: the formatter decides below
			}
		}
		try {
			Instant time = LocalDateTime.parse(text, AZURE_TIME).toInstant(ZoneOffset.UTC);
			return time.getEpochSecond() * 1_000_000_000L + time.getNano();
		}
		catch (DateTimeParseException ex) {
			throw new InvalidTraceException(name, number,
					"TIMESTAMP must look like 2023-11-16 18:15:46.6805900, was '" + text + "'");
		}
	}

	private static int digits(String text, int from, int to) {
		int value = 0;
		for (int i = from; i < to; i++) {
			char c = text.charAt(i);
			if (c < '0' || c > '9') {
				throw new NumberFormatException(text);
			}
			value = value * 10 + (c - '0');
		}
		return value;
	}

	private static Trace trace(String name, TraceFormat format, List<Row> rows, boolean absolute) {
		if (rows.isEmpty()) {
			throw new InvalidTraceException(name, 0, "the trace has no request");
		}
		rows.sort(Comparator.comparingLong(Row::time));
		long first = rows.get(0).time();
		List<TraceRequest> requests = new ArrayList<>(rows.size());
		for (Row row : rows) {
			requests.add(new TraceRequest(row.time() - first, row.tenant(), row.tier(), row.model(), row.prompt(),
					row.output()));
		}
		Instant start = absolute ? Instant.ofEpochSecond(first / 1_000_000_000L, first % 1_000_000_000L) : null;
		return new Trace(name, format, start, requests);
	}

	private static JsonNode object(String name, long number, String line) {
		JsonNode row;
		try {
			row = Json.MAPPER.readTree(line);
		}
		catch (JacksonException ex) {
			throw new InvalidTraceException(name, number, "not valid JSON");
		}
		if (row == null || !row.isObject()) {
			throw new InvalidTraceException(name, number, "each line must be a JSON object");
		}
		return row;
	}

	private static double number(String name, long number, JsonNode row, String field) {
		JsonNode value = row.get(field);
		if (value == null || !value.isNumber()) {
			throw new InvalidTraceException(name, number, field + " must be a number");
		}
		return value.asDouble();
	}

	private static int integer(String name, long number, JsonNode row, String field, int minimum) {
		JsonNode value = row.get(field);
		if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < minimum) {
			throw new InvalidTraceException(name, number,
					field + " must be an integer of at least " + minimum + ", was " + value);
		}
		return value.asInt();
	}

	private static int integer(String name, long number, String field, String text, int minimum) {
		try {
			int value = Integer.parseInt(text.strip());
			if (value >= minimum) {
				return value;
			}
		}
		catch (NumberFormatException ex) {
			// reported below
		}
		throw new InvalidTraceException(name, number,
				field + " must be an integer of at least " + minimum + ", was '" + text.strip() + "'");
	}

	private static String text(JsonNode row, String field) {
		JsonNode value = row.get(field);
		return (value != null && value.isString() && !value.stringValue().isBlank()) ? value.stringValue() : null;
	}

	private static String stripBom(String line) {
		return (!line.isEmpty() && line.charAt(0) == '\uFEFF') ? line.substring(1) : line;
	}

	private record Row(long time, String tenant, Tier tier, String model, int prompt, int output) {
	}

}
