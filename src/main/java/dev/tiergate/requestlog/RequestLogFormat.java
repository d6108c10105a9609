package dev.tiergate.requestlog;

import java.util.Locale;
import java.util.Optional;

/**
 * The export formats of the request log; both are traces that the simulator's
 * {@code TraceReader} reads back (the tiers come from the log).
 */
public enum RequestLogFormat {

	/**
	 * JSON lines, one object per request:
	 * {@code {"time":"2026-11-29T17:00:00.125Z","tenant":"acme","tier":"P0","model":"m","api":"chat.completions","stream":true,"status":200,"promptTokens":812,"completionTokens":96,"queueMs":0.4,"ttftMs":61.2,"durationMs":402.9,"servedBy":"fleet"}}.
	 */
	JSONL("application/x-ndjson", "jsonl"),

	/** CSV with the header {@link #CSV_HEADER} and the same fields. */
	CSV("text/csv", "csv");

	/** The CSV export's header. */
	public static final String CSV_HEADER = "time,tenant,tier,model,api,stream,status,promptTokens,completionTokens,queueMs,ttftMs,durationMs,servedBy";

	private final String mediaType;

	private final String extension;

	RequestLogFormat(String mediaType, String extension) {
		this.mediaType = mediaType;
		this.extension = extension;
	}

	/**
	 * The format of a query parameter.
	 * @param text {@code jsonl} or {@code csv}, any case
	 * @return the format, or empty when unknown
	 */
	public static Optional<RequestLogFormat> parse(String text) {
		for (RequestLogFormat format : values()) {
			if (format.extension.equalsIgnoreCase(text.strip())) {
				return Optional.of(format);
			}
		}
		return Optional.empty();
	}

	/**
	 * The media type of the export.
	 * @return e.g. {@code text/csv}
	 */
	public String mediaType() {
		return this.mediaType;
	}

	/**
	 * The file extension of the export.
	 * @return {@code jsonl} or {@code csv}
	 */
	public String extension() {
		return this.extension;
	}

	/**
	 * The text that starts the export.
	 * @return the CSV header line, or nothing
	 */
	public String header() {
		return (this == CSV) ? CSV_HEADER + "\n" : "";
	}

	/**
	 * One record as a line of this format, with its line end.
	 * @param record the record
	 * @return the line
	 */
	public String line(RequestRecord record) {
		if (this == CSV) {
			return String.join(",", record.time().toString(), csv(record.tenant()), record.tier().name(),
					csv(record.model()), csv(record.api()), Boolean.toString(record.stream()),
					Integer.toString(record.status()), Long.toString(record.promptTokens()),
					Long.toString(record.completionTokens()), millis(record.queueMs()), millis(record.ttftMs()),
					millis(record.durationMs()), record.servedBy()) + "\n";
		}
		return "{\"time\":\"" + record.time() + "\",\"tenant\":" + json(record.tenant()) + ",\"tier\":\""
				+ record.tier().name() + "\",\"model\":" + json(record.model()) + ",\"api\":" + json(record.api())
				+ ",\"stream\":" + record.stream() + ",\"status\":" + record.status() + ",\"promptTokens\":"
				+ record.promptTokens() + ",\"completionTokens\":" + record.completionTokens() + ",\"queueMs\":"
				+ millis(record.queueMs()) + ",\"ttftMs\":" + millis(record.ttftMs()) + ",\"durationMs\":"
				+ millis(record.durationMs()) + ",\"servedBy\":\"" + record.servedBy() + "\"}\n";
	}

	private static String millis(double value) {
		return String.format(Locale.ROOT, "%.1f", value);
	}

	private static String csv(String text) {
		if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
			return text;
		}
		return "\"" + text.replace("\"", "\"\"") + "\"";
	}

	private static String json(String text) {
		StringBuilder out = new StringBuilder(text.length() + 2).append('"');
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			switch (c) {
				case '"' -> out.append("\\\"");
				case '\\' -> out.append("\\\\");
				case '\n' -> out.append("\\n");
				case '\r' -> out.append("\\r");
				case '\t' -> out.append("\\t");
				default -> {
					if (c < 0x20) {
						out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
					}
					else {
						out.append(c);
					}
				}
			}
		}
		return out.append('"').toString();
	}

}
