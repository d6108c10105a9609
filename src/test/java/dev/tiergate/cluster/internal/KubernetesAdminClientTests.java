package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.LocalRedis;
import dev.tiergate.audit.AuditLog;
import dev.tiergate.audit.AuditProperties;
import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.ClusterUnavailableException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for the client of cluster administration ({@code kubernetesAdminClient}): an API
 * server that accepts connections and never answers fails a change with 503 and
 * {@code Retry-After} after the call timeout, instead of holding its writer forever (the
 * watch client has no read timeout).
 */
class KubernetesAdminClientTests {

	private final ServerSocket silent;

	private final List<Socket> accepted = new ArrayList<>();

	KubernetesAdminClientTests() throws IOException {
		this.silent = new ServerSocket(0);
		Thread.ofVirtual().start(() -> {
			while (!this.silent.isClosed()) {
				try {
					this.accepted.add(this.silent.accept());
				}
				catch (IOException ex) {
					return;
				}
			}
		});
	}

	@AfterEach
	void close() throws IOException {
		this.silent.close();
		for (Socket socket : this.accepted) {
			socket.close();
		}
	}

	@Test
	void aChangeTheApiServerDoesNotAnswerFailsWith503AfterTheCallTimeout() {
		ClusterProperties properties = new ClusterProperties("http://127.0.0.1:" + this.silent.getLocalPort(),
				List.of(), "tiergate.dev/model", Duration.ofMinutes(5), Duration.ofSeconds(2), 8000, "", "",
				Duration.ofSeconds(1));
		KubernetesPriorityClasses classes = new KubernetesPriorityClasses(
				new KubernetesClientConfiguration().kubernetesAdminClient(properties), properties, new AuditLog(
						LocalRedis.template(), new AuditProperties("tg:audit:test-unused", 1000), Clock.systemUTC()));
		long start = System.nanoTime();
		CompletableFuture<Void> change = CompletableFuture.runAsync(() -> classes.delete("batch-inference"));
		assertThatThrownBy(() -> change.get(10, TimeUnit.SECONDS)).cause()
			.isInstanceOfSatisfying(ClusterUnavailableException.class, (ex) -> {
				assertThat(ex.status()).isEqualTo(503);
				assertThat(ex.retryAfter()).isNotNull();
			});
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
	}

	@Test
	void aChangeWaitingBehindOneTheApiServerDoesNotAnswerGivesUpAfterHalfACallTimeout() throws Exception {
		ClusterProperties properties = new ClusterProperties("http://127.0.0.1:" + this.silent.getLocalPort(),
				List.of(), "tiergate.dev/model", Duration.ofMinutes(5), Duration.ofSeconds(2), 8000, "", "",
				Duration.ofSeconds(3));
		KubernetesPriorityClasses classes = new KubernetesPriorityClasses(
				new KubernetesClientConfiguration().kubernetesAdminClient(properties), properties, new AuditLog(
						LocalRedis.template(), new AuditProperties("tg:audit:test-unused", 1000), Clock.systemUTC()));
		// Threads of their own (the common pool may have a single worker).
		java.util.concurrent.Executor threads = (task) -> Thread.ofVirtual().start(task);
		CompletableFuture<Void> hung = CompletableFuture.runAsync(() -> classes.delete("first"), threads);
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !this.accepted.isEmpty());
		long start = System.nanoTime();
		CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> classes.delete("second"), threads);
		assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).cause()
			.isInstanceOfSatisfying(ClusterUnavailableException.class,
					(ex) -> assertThat(ex.getMessage()).contains("Another change to PriorityClasses"));
		// It waited half a call timeout for the writer, not the hung change's whole life.
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2_900));
		assertThatThrownBy(() -> hung.get(10, TimeUnit.SECONDS)).cause()
			.isInstanceOf(ClusterUnavailableException.class);
	}

}
