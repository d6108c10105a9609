package dev.tiergate.web;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.util.unit.DataSize;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link ConnectionBuffers}: the defaults, the sizes refused at start, and a
 * real Tomcat with 1 KB socket buffers that still reads a 200 KB body whole and writes a
 * 200 KB answer whole.
 */
class ConnectionBuffersTests {

	private static ConnectionBuffers.Properties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.server",
				ConnectionBuffers.Properties.class);
	}

	@Test
	void defaultsAreHalfOfTomcats() {
		ConnectionBuffers.Properties properties = bind(Map.of());
		assertThat(properties.socketReadBuffer()).isEqualTo(DataSize.ofKilobytes(4));
		assertThat(properties.socketWriteBuffer()).isEqualTo(DataSize.ofKilobytes(4));
		assertThat(properties.responseBuffer()).isEqualTo(DataSize.ofKilobytes(4));
	}

	@Test
	void refusesBuffersBelowOneKilobyteOrAboveOneMegabyteWithTheSettingNamed() {
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.socket-read-buffer", "512B")))
			.isInstanceOf(BindException.class)
			.rootCause()
			.hasMessageContaining("tiergate.server.socket-read-buffer must be between 1KB and 1MB");
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.socket-write-buffer", "2MB"))).rootCause()
			.hasMessageContaining("tiergate.server.socket-write-buffer must be between 1KB and 1MB");
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.response-buffer", "0B"))).rootCause()
			.hasMessageContaining("tiergate.server.response-buffer must be between 1KB and 1MB");
	}

	@Test
	void aTomcatWithOneKilobyteBuffersMovesLargeBodiesWhole() throws Exception {
		ConnectionBuffers.Properties properties = bind(Map.of("tiergate.server.socket-read-buffer", "1KB",
				"tiergate.server.socket-write-buffer", "1KB", "tiergate.server.response-buffer", "1KB"));
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory(0);
		new ConnectionBuffers().sizedBuffersProtocol().customize(factory);
		factory.addConnectorCustomizers((connector) -> ConnectionBuffers.apply(connector, properties));
		factory.addInitializers((context) -> context.addServlet("echo", new Echo()).addMapping("/echo"));
		TomcatWebServer server = (TomcatWebServer) factory.getWebServer();
		server.start();
		try {
			Connector connector = server.getTomcat().getConnector();
			assertThat(connector.getProperty("socket.appReadBufSize")).hasToString("1024");
			assertThat(connector.getProperty("socket.appWriteBufSize")).hasToString("1024");
			assertThat(connector.getProtocolHandler()).isInstanceOf(SizedBuffersHttp11NioProtocol.class);
			assertThat(connector.getProtocolHandler().getDesiredBufferSize()).isEqualTo(1024);
			byte[] body = new byte[200_000];
			Arrays.fill(body, (byte) 'x');
			try (HttpClient client = HttpClient.newHttpClient()) {
				HttpResponse<byte[]> answer = client
					.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort() + "/echo"))
						.POST(HttpRequest.BodyPublishers.ofByteArray(body))
						.build(), HttpResponse.BodyHandlers.ofByteArray());
				assertThat(answer.statusCode()).isEqualTo(200);
				assertThat(answer.body()).hasSize(5 + 7 + 200_000);
				assertThat(new String(answer.body(), 0, 12, StandardCharsets.US_ASCII))
					.as("the response's buffer, then the body's length")
					.isEqualTo("1024\n200000\n");
			}
		}
		finally {
			server.stop();
		}
	}

	/**
	 * Answers its response buffer's size and the body's length on lines, then the body.
	 */
	static final class Echo extends HttpServlet {

		@Override
		protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
			byte[] body = request.getInputStream().readAllBytes();
			response.setContentType("application/octet-stream");
			response.getOutputStream()
				.write((response.getBufferSize() + "\n" + body.length + "\n").getBytes(StandardCharsets.US_ASCII));
			response.getOutputStream().write(body);
		}

	}

}
