package dev.tiergate.batch;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks a batch input file line by line as its bytes arrive, without holding more than
 * one line: each line a JSON object with a unique {@code custom_id}, {@code method}
 * {@code POST}, a {@code url} the batch API serves (the same on every line), and a
 * {@code body} object whose {@code model} the fleet serves (the same on every line, as
 * OpenAI requires). The first invalid lines are kept, with their numbers and reasons.
 */
final class InputLines {

	/** The endpoints a batch may run. */
	static final Set<String> URLS = Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings");

	private final JsonMapper json;

	private final Predicate<String> servedModel;

	private final int maxLineBytes;

	private final int maxItems;

	private final int maxErrors;

	private final ByteArrayOutputStream line = new ByteArrayOutputStream();

	private boolean lineTooLong;

	private final Map<String, Integer> customIds = new HashMap<>();

	private final List<String> errors = new ArrayList<>();

	private int invalid;

	private int number;

	private int items;

	private String url;

	private int urlLine;

	private String model;

	private int modelLine;

	private java.util.function.ObjIntConsumer<JsonNode> onItem = (item, number) -> {
	};

	/**
	 * A checker for one file.
	 * @param json the mapper
	 * @param servedModel whether the fleet serves a model
	 * @param maxLineBytes longest line (one request body)
	 * @param maxItems most requests in the file
	 * @param maxErrors most errors kept
	 */
	InputLines(JsonMapper json, Predicate<String> servedModel, int maxLineBytes, int maxItems, int maxErrors) {
		this.json = json;
		this.servedModel = servedModel;
		this.maxLineBytes = maxLineBytes;
		this.maxItems = maxItems;
		this.maxErrors = maxErrors;
	}

	/**
	 * Hands every line that is a JSON object to a consumer, with its number, after it was
	 * checked.
	 * @param consumer the consumer
	 * @return this
	 */
	InputLines onItem(java.util.function.ObjIntConsumer<JsonNode> consumer) {
		this.onItem = consumer;
		return this;
	}

	/**
	 * Takes the next bytes of the file.
	 * @param bytes buffer
	 * @param offset start
	 * @param length count
	 */
	void accept(byte[] bytes, int offset, int length) {
		int start = offset;
		int end = offset + length;
		for (int i = offset; i < end; i++) {
			if (bytes[i] == '\n') {
				append(bytes, start, i - start);
				endLine();
				start = i + 1;
			}
		}
		append(bytes, start, end - start);
	}

	private void append(byte[] bytes, int offset, int length) {
		if (length == 0 || this.lineTooLong) {
			return;
		}
		if (this.line.size() + length > this.maxLineBytes) {
			this.lineTooLong = true;
			this.line.reset();
			return;
		}
		this.line.write(bytes, offset, length);
	}

	private void endLine() {
		this.number++;
		byte[] bytes = this.line.toByteArray();
		int length = bytes.length;
		if (length > 0 && bytes[length - 1] == '\r') {
			length--;
		}
		boolean tooLong = this.lineTooLong;
		this.line.reset();
		this.lineTooLong = false;
		if (tooLong) {
			error("is longer than " + this.maxLineBytes + " bytes");
			return;
		}
		check(bytes, length);
	}

	/**
	 * Ends the file.
	 * @return what the file holds, and what is wrong with it
	 */
	Result finish() {
		if (this.line.size() > 0 || this.lineTooLong) {
			endLine();
		}
		if (this.items == 0 && this.errors.isEmpty()) {
			this.errors.add("the file has no requests (it is empty)");
			this.invalid++;
		}
		if (this.items > this.maxItems) {
			this.errors.add(0, "the file has " + this.items + " requests; a batch may have at most " + this.maxItems);
			this.invalid++;
		}
		return new Result(this.items, this.url, this.model, List.copyOf(this.errors), this.invalid);
	}

	private void check(byte[] bytes, int length) {
		if (isBlank(bytes, length)) {
			error("is empty; every line must be one JSON request");
			return;
		}
		JsonNode node;
		try {
			node = this.json.readTree(new String(bytes, 0, length, java.nio.charset.StandardCharsets.UTF_8));
		}
		catch (JacksonException ex) {
			error("is not valid JSON (" + ex.getOriginalMessage() + ")");
			return;
		}
		if (node == null || !node.isObject()) {
			error("is not a JSON object");
			return;
		}
		this.items++;
		JsonNode customId = node.get("custom_id");
		if (customId == null || !customId.isString() || customId.asString().isBlank()) {
			error("custom_id must be a non-empty string");
		}
		else if (customId.asString().length() > 512) {
			error("custom_id is longer than 512 characters");
		}
		else {
			Integer first = this.customIds.putIfAbsent(customId.asString(), this.number);
			if (first != null) {
				error("custom_id '" + customId.asString() + "' is also used by line " + first
						+ "; custom_id must be unique");
			}
		}
		JsonNode method = node.get("method");
		if (method == null || !method.isString() || !method.asString().equals("POST")) {
			error("method must be \"POST\"");
		}
		JsonNode url = node.get("url");
		if (url == null || !url.isString() || !URLS.contains(url.asString())) {
			error("url must be one of /v1/chat/completions, /v1/completions, /v1/embeddings");
		}
		else if (this.url == null) {
			this.url = url.asString();
			this.urlLine = this.number;
		}
		else if (!this.url.equals(url.asString())) {
			error("url '" + url.asString() + "' differs from '" + this.url + "' on line " + this.urlLine
					+ "; a batch runs one endpoint");
		}
		JsonNode body = node.get("body");
		if (body == null || !body.isObject()) {
			error("body must be a JSON object");
			return;
		}
		JsonNode model = body.get("model");
		if (model == null || !model.isString() || model.asString().isBlank()) {
			error("body.model must be a non-empty string");
		}
		else if (!this.servedModel.test(model.asString())) {
			error("body.model '" + model.asString() + "' is not a model this service serves");
		}
		else if (this.model == null) {
			this.model = model.asString();
			this.modelLine = this.number;
		}
		else if (!this.model.equals(model.asString())) {
			error("body.model '" + model.asString() + "' differs from '" + this.model + "' on line " + this.modelLine
					+ "; a batch uses one model");
		}
		JsonNode stream = body.get("stream");
		if (stream != null && stream.asBoolean(false)) {
			error("body.stream must not be true in a batch");
		}
		this.onItem.accept(node, this.number);
	}

	private static boolean isBlank(byte[] bytes, int length) {
		for (int i = 0; i < length; i++) {
			if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\r') {
				return false;
			}
		}
		return true;
	}

	private void error(String reason) {
		this.invalid++;
		if (this.errors.size() < this.maxErrors) {
			this.errors.add("line " + this.number + ": " + reason);
		}
	}

	/**
	 * What a checked file holds.
	 *
	 * @param items requests (lines that are JSON objects)
	 * @param url the endpoint every line names, or {@code null}
	 * @param model the model every line names, or {@code null}
	 * @param errors the first problems, each with its line number
	 * @param invalid how many problems in all
	 */
	record Result(int items, String url, String model, List<String> errors, int invalid) {

		boolean valid() {
			return this.errors.isEmpty();
		}

	}

}
