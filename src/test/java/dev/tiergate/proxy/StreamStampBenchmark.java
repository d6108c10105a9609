package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import dev.tiergate.tier.Tier;

/**
 * What a streamed token costs the gateway on its way through: {@link ServiceTierStamp} on
 * one chat-completion chunk event of 208 bytes, shaped as vLLM sends them, written to a
 * stream that counts what it is given, as the stream copy does for each read.
 * <ul>
 * <li>{@code wholeEvent}: the read holds one whole event, as when tokens come one at a
 * time.</li>
 * <li>{@code splitEvent}: the event arrives in two reads, cut in its JSON.</li>
 * </ul>
 * Run: see {@code docs/benchmarks.md}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class StreamStampBenchmark {

	static final byte[] EVENT = ("data: {\"id\":\"chatcmpl-4f1c2b\",\"object\":\"chat.completion.chunk\",\"created\":1764633600,"
			+ "\"model\":\"llama-3.1-8b-instruct\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},"
			+ "\"logprobs\":null,\"finish_reason\":null}]}\n\n")
		.getBytes(StandardCharsets.UTF_8);

	private ServiceTierStamp stamp;

	private Counting out;

	@Setup
	public void setUp(Blackhole blackhole) {
		this.stamp = new ServiceTierStamp(Tier.P0);
		this.out = new Counting(blackhole);
	}

	@Benchmark
	public void wholeEvent() throws IOException {
		this.stamp.write(EVENT, 0, EVENT.length, this.out);
	}

	@Benchmark
	public void splitEvent() throws IOException {
		this.stamp.write(EVENT, 0, 60, this.out);
		this.stamp.write(EVENT, 60, EVENT.length - 60, this.out);
	}

	/**
	 * Counts bytes and hands each write to the blackhole, so nothing is optimized away.
	 */
	static final class Counting extends OutputStream {

		private final Blackhole blackhole;

		private long bytes;

		Counting(Blackhole blackhole) {
			this.blackhole = blackhole;
		}

		@Override
		public void write(int b) {
			this.bytes++;
			this.blackhole.consume(b);
		}

		@Override
		public void write(byte[] b, int off, int len) {
			this.bytes += len;
			this.blackhole.consume(b);
		}

	}

}
