package dev.tiergate.batch;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Multipart uploads to {@code POST /v1/files}, built by hand as any HTTP client would
 * send them.
 */
final class Uploads {

	private static final String BOUNDARY = "tiergate-test-boundary-7d1f";

	private Uploads() {
	}

	static HttpRequest upload(URI uri, String key, String purpose, String filename, byte[] content) {
		ByteArrayOutputStream body = new ByteArrayOutputStream();
		if (purpose != null) {
			write(body, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose
					+ "\r\n");
		}
		if (content != null) {
			write(body, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
					+ "\"\r\nContent-Type: application/jsonl\r\n\r\n");
			body.writeBytes(content);
			write(body, "\r\n");
		}
		write(body, "--" + BOUNDARY + "--\r\n");
		return HttpRequest.newBuilder(uri)
			.timeout(Duration.ofSeconds(60))
			.header("Authorization", "Bearer " + key)
			.header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
			.POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
			.build();
	}

	private static void write(ByteArrayOutputStream out, String text) {
		out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * One line of batch input: a chat completion.
	 * @param customId the line's id
	 * @param model the model
	 * @param maxTokens completion tokens
	 * @return the JSON line, without newline
	 */
	static String chatLine(String customId, String model, int maxTokens) {
		return """
				{"custom_id":"%s","method":"POST","url":"/v1/chat/completions","body":{"model":"%s","messages":[{"role":"user","content":"Say something about GPUs"}],"max_tokens":%d}}"""
			.formatted(customId, model, maxTokens);
	}

	/**
	 * A file of chat lines {@code item-0} to {@code item-(n-1)}.
	 * @param n lines
	 * @param model the model
	 * @param maxTokens completion tokens per line
	 * @return the JSONL bytes
	 */
	static byte[] chatFile(int n, String model, int maxTokens) {
		StringBuilder file = new StringBuilder();
		for (int i = 0; i < n; i++) {
			file.append(chatLine("item-" + i, model, maxTokens)).append('\n');
		}
		return file.toString().getBytes(StandardCharsets.UTF_8);
	}

}
