package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Reads a request body without ever holding more than the configured limit.
 */
final class RequestBodies {

	private RequestBodies() {
	}

	static byte[] read(HttpServletRequest request, long limit) throws IOException {
		long declared = request.getContentLengthLong();
		if (declared > limit) {
			throw tooLarge(limit);
		}
		try (InputStream in = request.getInputStream()) {
			byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
			if (bytes.length > limit) {
				throw tooLarge(limit);
			}
			if (bytes.length == 0) {
				throw OpenAiException.invalidRequest("invalid_json", "The request body is empty; send a JSON object.");
			}
			return bytes;
		}
	}

	private static OpenAiException tooLarge(long limit) {
		return new OpenAiException(413, "invalid_request_error", "request_too_large",
				"The request body is larger than the limit of " + limit + " bytes.");
	}

}
