package dev.tiergate.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.models.Model;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Tests that OpenAI's official Java library talks to Tiergate unchanged: base URL and API
 * key are all it needs.
 */
class OpenAiClientIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	private EndpointRegistry registry;

	private OpenAIClient client;

	@BeforeEach
	void connect() {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.registry.pool(SimulatedGpuFleet.LLAMA).size() == 20);
		this.client = OpenAIOkHttpClient.builder()
			.baseUrl("http://127.0.0.1:" + this.port + "/v1")
			.apiKey(EmbeddedDefaults.ACME_KEY)
			.maxRetries(0)
			.timeout(Duration.ofSeconds(30))
			.build();
	}

	@AfterEach
	void close() {
		this.client.close();
	}

	private ChatCompletionCreateParams.Builder params(long maxTokens) {
		return ChatCompletionCreateParams.builder()
			.model(SimulatedGpuFleet.LLAMA)
			.addUserMessage("What does MPS do to a GPU?")
			.maxCompletionTokens(maxTokens);
	}

	@Test
	void createsAChatCompletion() {
		ChatCompletion completion = this.client.chat().completions().create(params(7).build());
		assertThat(completion.model()).isEqualTo(SimulatedGpuFleet.LLAMA);
		assertThat(completion.choices()).hasSize(1);
		assertThat(completion.choices().get(0).message().content())
			.hasValueSatisfying((c) -> assertThat(c).isNotBlank());
		assertThat(completion.usage()).hasValueSatisfying((u) -> assertThat(u.completionTokens()).isEqualTo(7));
	}

	@Test
	void streamsAChatCompletionWithUsage() {
		List<ChatCompletionChunk> chunks = new ArrayList<>();
		try (StreamResponse<ChatCompletionChunk> stream = this.client.chat()
			.completions()
			.createStreaming(params(5).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
				.build())) {
			stream.stream().forEach(chunks::add);
		}
		StringBuilder text = new StringBuilder();
		chunks.forEach((c) -> c.choices().forEach((choice) -> choice.delta().content().ifPresent(text::append)));
		assertThat(text).isNotEmpty();
		assertThat(chunks.get(chunks.size() - 1).usage())
			.hasValueSatisfying((u) -> assertThat(u.completionTokens()).isEqualTo(5));
	}

	@Test
	void listsModels() {
		List<String> ids = new ArrayList<>();
		this.client.models().list().autoPager().forEach((Model m) -> ids.add(m.id()));
		assertThat(ids).contains(SimulatedGpuFleet.LLAMA, SimulatedGpuFleet.QWEN);
	}

	@Test
	void understandsTiergatesErrors() {
		assertThatExceptionOfType(NotFoundException.class)
			.isThrownBy(() -> this.client.chat().completions().create(params(1).model("no-such-model").build()))
			.satisfies((ex) -> assertThat(ex.getMessage()).contains("no-such-model"));
		OpenAIClient wrong = OpenAIOkHttpClient.builder()
			.baseUrl("http://127.0.0.1:" + this.port + "/v1")
			.apiKey("tg-wrong")
			.maxRetries(0)
			.build();
		try {
			assertThatExceptionOfType(UnauthorizedException.class)
				.isThrownBy(() -> wrong.chat().completions().create(params(1).build()));
		}
		finally {
			wrong.close();
		}
	}

}
