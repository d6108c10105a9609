package dev.tiergate.metering;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

import com.sun.net.httpserver.HttpServer;

/**
 * A real dcgm-exporter's answer, recorded ({@code dcgm-exporter.txt}: two A100s of
 * {@code gpu-node-1}, GPU 0 at 87% running {@code inference/llama-0}), for the tests to
 * parse or to serve as an exporter does.
 */
final class RecordedDcgmExposition {

	private RecordedDcgmExposition() {
	}

	/**
	 * The recorded exposition.
	 * @return its bytes
	 */
	static byte[] bytes() {
		try (InputStream in = RecordedDcgmExposition.class.getResourceAsStream("dcgm-exporter.txt")) {
			return in.readAllBytes();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Serves the recorded exposition at {@code path}, with the exporter's content type.
	 * @param server the server
	 * @param path the path, such as {@code /metrics}
	 */
	static void serve(HttpServer server, String path) {
		byte[] recorded = bytes();
		server.createContext(path, (exchange) -> {
			exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
			exchange.sendResponseHeaders(200, recorded.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(recorded);
			}
		});
	}

}
