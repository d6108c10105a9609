package dev.tiergate.web;

import org.apache.catalina.connector.Connector;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.tomcat.TomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * The size of the buffers Tomcat keeps for each open connection, which a replica holding
 * thousands of streams pays once per stream: the socket's read and write buffers
 * (Tomcat's {@code socket.appReadBufSize} and {@code socket.appWriteBufSize}, 8 KB each
 * by default), the response's buffer (8 KB of bytes and 16 KB of characters by default),
 * the request reader's characters (16 KB) and the response writer's characters (twice the
 * response buffer; these three sized through {@link SizedBuffersHttp11NioProtocol}) and
 * the chunked request's trailer buffer (Tomcat's {@code maxTrailerSize}, 8 KB). A
 * streamed token is an event of about 200 bytes, and a small completion's request and
 * answer under a kilobyte each, so 1 KB buffers (the defaults) cost a larger body a few
 * more system calls (one per kilobyte read or written) and save memory per open
 * connection (docs/benchmarks.md, "10,000 streams in a 1 GiB process"). Bodies larger
 * than the buffer are read and written in several steps, as before.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = "org.apache.catalina.startup.Tomcat")
@EnableConfigurationProperties(ConnectionBuffers.Properties.class)
class ConnectionBuffers {

	@Bean
	WebServerFactoryCustomizer<TomcatWebServerFactory> sizedBuffersProtocol() {
		return (factory) -> factory.setProtocol(SizedBuffersHttp11NioProtocol.class.getName());
	}

	@Bean
	TomcatConnectorCustomizer connectionBuffersCustomizer(Properties properties) {
		return (connector) -> apply(connector, properties);
	}

	static void apply(Connector connector, Properties properties) {
		connector.setProperty("socket.appReadBufSize", Long.toString(properties.socketReadBuffer().toBytes()));
		connector.setProperty("socket.appWriteBufSize", Long.toString(properties.socketWriteBuffer().toBytes()));
		connector.setProperty("maxTrailerSize", Long.toString(properties.maxRequestTrailerSize().toBytes()));
		if (connector.getProtocolHandler() instanceof SizedBuffersHttp11NioProtocol protocol) {
			protocol.setDesiredBufferSize((int) properties.responseBuffer().toBytes());
			protocol.setReaderBufferChars(connector, (int) (properties.requestReaderBuffer().toBytes() / 2));
			protocol.setWriterBufferChars((int) (properties.responseWriterBuffer().toBytes() / 2));
		}
	}

	/**
	 * Buffers per connection.
	 *
	 * @param socketReadBuffer bytes read from a connection at a time
	 * @param socketWriteBuffer bytes gathered before a write to a connection
	 * @param responseBuffer bytes (and characters) a response buffers before it is
	 * written, and committed
	 * @param requestReaderBuffer bytes of characters a request's reader decodes at a time
	 * (Tomcat allocates 16 KB per request, used only by {@code getReader()})
	 * @param responseWriterBuffer bytes of characters a response's writer encodes at a
	 * time (Tomcat allocates as many characters as the response buffer has bytes, used
	 * only by {@code getWriter()})
	 * @param maxRequestTrailerSize the most bytes of trailing headers after a chunked
	 * request body (Tomcat's {@code maxTrailerSize}, 8 KB by default, allocated per
	 * connection); a request with more is refused
	 */
	@Validated
	@ConfigurationProperties("tiergate.server")
	record Properties(@DefaultValue("1KB") @NotNull DataSize socketReadBuffer,
			@DefaultValue("1KB") @NotNull DataSize socketWriteBuffer,
			@DefaultValue("1KB") @NotNull DataSize responseBuffer,
			@DefaultValue("1KB") @NotNull DataSize requestReaderBuffer,
			@DefaultValue("1KB") @NotNull DataSize responseWriterBuffer,
			@DefaultValue("1KB") @NotNull DataSize maxRequestTrailerSize) {

		Properties {
			check("tiergate.server.socket-read-buffer", socketReadBuffer);
			check("tiergate.server.socket-write-buffer", socketWriteBuffer);
			check("tiergate.server.response-buffer", responseBuffer);
			check("tiergate.server.request-reader-buffer", requestReaderBuffer);
			check("tiergate.server.response-writer-buffer", responseWriterBuffer);
			check("tiergate.server.max-request-trailer-size", maxRequestTrailerSize);
		}

		private static void check(String name, DataSize size) {
			if (size != null && (size.toBytes() < 1024 || size.toBytes() > 1024 * 1024)) {
				throw new IllegalArgumentException(name + " must be between 1KB and 1MB, not " + size);
			}
		}

	}

}
