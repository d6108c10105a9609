package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the pooled upstream client spends reading a streamed answer, event by event: a
 * server on loopback (a virtual thread of the benchmark's JVM) writes an endless chunked
 * event stream, one {@link StreamStampBenchmark#EVENT} per chunk, in blocks of 64, and
 * each operation is one {@code read} of the answer's body into a 4 KB array, which gives
 * the data of one chunk: its size line and the CRLF after it are the client's to parse.
 * Socket reads are part of it (one per 64 events or so); the allocation per operation is
 * the figure to read.
 * <p>
 * Run: see {@code docs/benchmarks.md}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class ChunkedStreamBenchmark {

	private ServerSocket server;

	private Thread writer;

	private PooledHttp1Client client;

	private InputStream body;

	private final byte[] buffer = new byte[4096];

	@Setup
	public void setUp() throws IOException, InterruptedException {
		this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		byte[] block = block();
		this.writer = Thread.ofVirtual().start(() -> serve(block));
		this.client = new PooledHttp1Client(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(4), 4);
		URI uri = URI.create("http://127.0.0.1:" + this.server.getLocalPort() + "/v1/chat/completions");
		this.body = this.client.post(uri, "{}".getBytes(StandardCharsets.UTF_8), true, "bench").execute().body();
	}

	@TearDown
	public void tearDown() throws IOException {
		this.body.close();
		this.client.close();
		this.server.close();
		this.writer.interrupt();
	}

	@Benchmark
	public int readOneChunk() throws IOException {
		return this.body.read(this.buffer, 0, this.buffer.length);
	}

	private static byte[] block() {
		byte[] event = StreamStampBenchmark.EVENT;
		byte[] head = (Integer.toHexString(event.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
		byte[] block = new byte[64 * (head.length + event.length + 2)];
		int at = 0;
		for (int i = 0; i < 64; i++) {
			System.arraycopy(head, 0, block, at, head.length);
			at += head.length;
			System.arraycopy(event, 0, block, at, event.length);
			at += event.length;
			block[at++] = '\r';
			block[at++] = '\n';
		}
		return block;
	}

	private void serve(byte[] block) {
		try (Socket socket = this.server.accept()) {
			InputStream in = socket.getInputStream();
			// the request's head and its two-byte body
			int matched = 0;
			while (matched < 4) {
				int b = in.read();
				if (b < 0) {
					return;
				}
				matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : ((b == '\r') ? 1 : 0);
			}
			in.readNBytes(2);
			OutputStream out = socket.getOutputStream();
			out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			while (!Thread.currentThread().isInterrupted()) {
				out.write(block);
			}
		}
		catch (IOException ex) {
			// the benchmark closed the connection
		}
	}

}
