package dev.tiergate.web;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.OutputBuffer;
import org.apache.catalina.connector.Response;
import org.apache.catalina.connector.ResponseFacade;
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
 * Tests for {@link ConnectionBuffers}: the defaults, the sizes refused at start, a real
 * Tomcat whose small reader and writer buffers decode and encode a 200 KB text whole, and
 * one with 1 KB socket buffers that still reads a 200 KB body whole and writes a 200 KB
 * answer whole.
 */
class ConnectionBuffersTests {

	private static ConnectionBuffers.Properties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.server",
				ConnectionBuffers.Properties.class);
	}

	@Test
	void defaultsAreAnEighthOfTomcats() {
		ConnectionBuffers.Properties properties = bind(Map.of());
		assertThat(properties.socketReadBuffer()).isEqualTo(DataSize.ofKilobytes(1));
		assertThat(properties.socketWriteBuffer()).isEqualTo(DataSize.ofKilobytes(1));
		assertThat(properties.responseBuffer()).isEqualTo(DataSize.ofKilobytes(1));
		assertThat(properties.requestReaderBuffer()).isEqualTo(DataSize.ofKilobytes(1));
		assertThat(properties.responseWriterBuffer()).isEqualTo(DataSize.ofKilobytes(1));
		assertThat(properties.maxRequestTrailerSize()).isEqualTo(DataSize.ofKilobytes(1));
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
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.request-reader-buffer", "100B"))).rootCause()
			.hasMessageContaining("tiergate.server.request-reader-buffer must be between 1KB and 1MB");
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.response-writer-buffer", "1023B"))).rootCause()
			.hasMessageContaining("tiergate.server.response-writer-buffer must be between 1KB and 1MB");
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.max-request-trailer-size", "1GB"))).rootCause()
			.hasMessageContaining("tiergate.server.max-request-trailer-size must be between 1KB and 1MB");
		assertThatThrownBy(() -> bind(Map.of("tiergate.server.max-request-trailer-size", "lots")))
			.isInstanceOf(BindException.class)
			.hasMessageContaining("tiergate.server.max-request-trailer-size");
	}

	@Test
	void aReaderAndAWriterMoveAWholeBodyThroughTheSmallBuffersAndOversizedTrailersAreRefused() throws Exception {
		TomcatWebServer server = start(bind(Map.of()));
		try {
			SizedBuffersHttp11NioProtocol protocol = (SizedBuffersHttp11NioProtocol) server.getTomcat()
				.getConnector()
				.getProtocolHandler();
			assertThat(server.getTomcat().getConnector().getProperty("maxTrailerSize")).hasToString("1024");
			// Characters of one, two, three and four bytes in UTF-8, so that sequences
			// straddle every buffer boundary.
			String text = "a\u00e9\u65e5\ud83d\ude80-".repeat(20_000);
			try (HttpClient client = HttpClient.newHttpClient()) {
				for (int i = 0; i < 3; i++) {
					HttpResponse<String> answer = client
						.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort() + "/read"))
							.header("Content-Type", "text/plain; charset=UTF-8")
							.POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.UTF_8))
							.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
					assertThat(answer.statusCode()).isEqualTo(200);
					assertThat(answer.body()).as("read through mark and reset, then to the end, and written back")
						.isEqualTo(text);
				}
			}
			assertThat(protocol.smallReaders()).as("request objects made with the small reader buffer")
				.isBetween(1L, 3L);
			assertThat(protocol.smallWriters()).as("response objects made with the small writer buffer")
				.isEqualTo(protocol.smallReaders());
			assertThat(Read.writerChars).as("the writer's characters of each response written").containsOnly(512);
			assertThat(rawPost(server.getPort(), "x".repeat(800))).startsWith("HTTP/1.1 200");
			assertThat(rawPost(server.getPort(), "x".repeat(2000))).startsWith("HTTP/1.1 400");
		}
		finally {
			server.stop();
		}
	}

	/**
	 * The capacity of the writer's character buffer of the response object behind a
	 * servlet's response (Tomcat's facade), read through the fields the protocol
	 * replaces.
	 */
	static int writerChars(HttpServletResponse servletResponse) {
		try {
			Field facadeResponse = ResponseFacade.class.getDeclaredField("response");
			facadeResponse.setAccessible(true);
			Field outputBuffer = Response.class.getDeclaredField("outputBuffer");
			outputBuffer.setAccessible(true);
			Field chars = OutputBuffer.class.getDeclaredField("cb");
			chars.setAccessible(true);
			Object response = facadeResponse.get(servletResponse);
			return ((CharBuffer) chars.get(outputBuffer.get(response))).capacity();
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** A chunked POST to /echo with one trailing header of the given value. */
	private static String rawPost(int port, String trailer) throws IOException {
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(10_000);
			socket.getOutputStream()
				.write(("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
						+ "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Note: " + trailer + "\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
			return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
		}
	}

	private static TomcatWebServer start(ConnectionBuffers.Properties properties) {
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory(0);
		new ConnectionBuffers().sizedBuffersProtocol().customize(factory);
		factory.addConnectorCustomizers((connector) -> ConnectionBuffers.apply(connector, properties));
		factory.addInitializers((context) -> {
			context.addServlet("echo", new Echo()).addMapping("/echo");
			context.addServlet("read", new Read()).addMapping("/read");
		});
		TomcatWebServer server = (TomcatWebServer) factory.getWebServer();
		server.start();
		return server;
	}

	@Test
	void aTomcatWithOneKilobyteBuffersMovesLargeBodiesWhole() throws Exception {
		ConnectionBuffers.Properties properties = bind(Map.of("tiergate.server.socket-read-buffer", "1KB",
				"tiergate.server.socket-write-buffer", "1KB", "tiergate.server.response-buffer", "1KB"));
		TomcatWebServer server = start(properties);
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
	 * Reads the body as characters through Tomcat's reader: two, then a mark, 30,000
	 * more, a reset, and all to the end; answers the two and what followed the mark (the
	 * whole body).
	 */
	static final class Read extends HttpServlet {

		static final Queue<Integer> writerChars = new ConcurrentLinkedQueue<>();

		@Override
		protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
			BufferedReader reader = request.getReader();
			StringBuilder read = new StringBuilder();
			read.append((char) reader.read()).append((char) reader.read());
			reader.mark(40_000);
			char[] skip = new char[30_000];
			int n = 0;
			while (n < skip.length) {
				n += reader.read(skip, n, skip.length - n);
			}
			reader.reset();
			char[] chunk = new char[777];
			for (int r = reader.read(chunk); r >= 0; r = reader.read(chunk)) {
				read.append(chunk, 0, r);
			}
			response.setContentType("text/plain; charset=UTF-8");
			writerChars.add(writerChars(response));
			response.getWriter().write(read.toString());
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
