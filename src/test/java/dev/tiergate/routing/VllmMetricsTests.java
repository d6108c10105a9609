package dev.tiergate.routing;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link VllmMetrics}.
 */
class VllmMetricsTests {

	@Test
	void readsQueueBatchAndCacheGaugesSummedOverEngines() {
		String text = """
				# HELP vllm:num_requests_running Number of requests in model execution batches.
				# TYPE vllm:num_requests_running gauge
				vllm:num_requests_running{engine="0",model_name="llama"} 5.0
				vllm:num_requests_running{engine="1",model_name="llama"} 3.0
				vllm:num_requests_waiting{engine="0",model_name="llama"} 2.0 1730540000000
				vllm:num_requests_waiting{engine="1",model_name="lla}ma \\"x\\""} 1.0
				vllm:gpu_cache_usage_perc{model_name="llama"} 0.42
				vllm:prompt_tokens_total{model_name="llama"} 12345.0
				process_cpu_seconds_total 4.2
				""";
		EndpointMetrics metrics = VllmMetrics.parse(text, 99, 7);
		assertThat(metrics.running()).isEqualTo(8.0);
		assertThat(metrics.waiting()).isEqualTo(3.0);
		assertThat(metrics.kvCacheUsage()).isEqualTo(0.42);
		assertThat(metrics.scrapedAtNanos()).isEqualTo(99);
		assertThat(metrics.inFlightAtScrape()).isEqualTo(7);
	}

	@Test
	void acceptsTheNewerKvCacheGaugeName() {
		EndpointMetrics metrics = VllmMetrics.parse("""
				vllm:num_requests_running 1
				vllm:num_requests_waiting 0
				vllm:kv_cache_usage_perc{model_name="m"} 0.75
				""", 0, 0);
		assertThat(metrics.kvCacheUsage()).isEqualTo(0.75);
	}

	@Test
	void readsValuesAfterTabsAndBeforeCarriageReturnsAndSkipsWhatIsNotANumberOrNotAWantedSeries() {
		EndpointMetrics metrics = VllmMetrics.parse(
				"vllm:num_requests_running{engine=\"0\"}\t4\t1730540000000\r\n"
						+ "vllm:num_requests_running{engine=\"1\"}   NaN\r\n" + "vllm:num_requests_waiting  2.5\r\n"
						+ "vllm:num_requests_waiting{engine=\"1\"} two\n" + "vllm:num_requests_waiting_total 100\n"
						+ "vllm:time_to_first_token_seconds_bucket{le=\"0.1\"} 7\n" + "vllm:gpu_cache_usage_perc\n",
				0, 0);
		assertThat(metrics.running()).isEqualTo(4.0);
		assertThat(metrics.waiting()).isEqualTo(2.5);
		assertThat(metrics.kvCacheUsage()).isZero();
	}

	@Test
	void aPageWithoutVllmQueueGaugesIsAFailedScrape() {
		assertThatIllegalArgumentException().isThrownBy(() -> VllmMetrics.parse("up 1\n", 0, 0));
	}

}
