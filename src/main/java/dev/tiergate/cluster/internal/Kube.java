package dev.tiergate.cluster.internal;

import java.util.Map;

import com.google.gson.Gson;

import dev.tiergate.cluster.ClusterUnavailableException;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.PatchUtils;

/**
 * Small helpers for calls to the Kubernetes API: errors become
 * {@link ClusterUnavailableException}, a 404 becomes {@code null} where absence is an
 * answer, and patches are JSON merge patches (which every API server, and the test
 * stand-in, serves).
 */
final class Kube {

	private static final Gson gson = new Gson();

	private Kube() {
	}

	interface Call<T> {

		T call() throws ApiException;

	}

	static <T> T call(String what, Call<T> call) {
		try {
			return call.call();
		}
		catch (ApiException ex) {
			throw unavailable(what, ex);
		}
	}

	static <T> T orNull(String what, Call<T> call) {
		try {
			return call.call();
		}
		catch (ApiException ex) {
			if (ex.getCode() == 404) {
				return null;
			}
			throw unavailable(what, ex);
		}
	}

	static <T> T mergePatch(String what, Class<T> type, ApiClient client, Map<String, Object> patch,
			PatchUtils.PatchCallFunc call) {
		return call(what, () -> PatchUtils.patch(type, call, V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client));
	}

	static V1Patch json(Map<String, Object> patch) {
		return new V1Patch(gson.toJson(patch));
	}

	static ClusterUnavailableException unavailable(String what, ApiException ex) {
		return new ClusterUnavailableException("Kubernetes API failed to " + what + " (HTTP " + ex.getCode() + ")",
				ex.getCode(), ex);
	}

}
