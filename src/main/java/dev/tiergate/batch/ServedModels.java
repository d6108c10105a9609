package dev.tiergate.batch;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.EndpointRegistry;

/**
 * Whether the fleet serves a model: it has endpoints now, or had some (its pool is known
 * to the dispatcher, whose items then wait for capacity rather than fail), as the request
 * path decides.
 */
class ServedModels {

	private final EndpointRegistry registry;

	private final DispatchRuntime dispatcher;

	ServedModels(EndpointRegistry registry, DispatchRuntime dispatcher) {
		this.registry = registry;
		this.dispatcher = dispatcher;
	}

	boolean serves(String model) {
		return !this.registry.pool(model).isEmpty() || this.dispatcher.knows(model);
	}

	/**
	 * The context length a model's requests are checked against: the configured one, else
	 * what its engines report ({@code max_model_len}).
	 * @param model the model
	 * @param proxy the proxy's settings
	 * @return tokens
	 */
	long contextLength(String model, dev.tiergate.proxy.ProxyProperties proxy) {
		return proxy.contextLength(model, this.registry.maxModelLen(model));
	}

}
