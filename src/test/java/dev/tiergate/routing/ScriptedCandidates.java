package dev.tiergate.routing;

import java.util.ArrayList;
import java.util.List;

/**
 * Candidates a test writes down: endpoints with their leases and slots, at a given time.
 */
final class ScriptedCandidates implements BalancingPolicy.Candidates {

	private final List<Endpoint> endpoints = new ArrayList<>();

	private final List<int[]> load = new ArrayList<>();

	private final long now;

	ScriptedCandidates(long now) {
		this.now = now;
	}

	ScriptedCandidates add(Endpoint endpoint, int inFlight, int slots) {
		this.endpoints.add(endpoint);
		this.load.add(new int[] { inFlight, slots });
		return this;
	}

	void inFlight(Endpoint endpoint, int inFlight) {
		this.load.get(this.endpoints.indexOf(endpoint))[0] = inFlight;
	}

	int inFlightOf(Endpoint endpoint) {
		return this.load.get(this.endpoints.indexOf(endpoint))[0];
	}

	@Override
	public int size() {
		return this.endpoints.size();
	}

	@Override
	public Endpoint endpoint(int i) {
		return this.endpoints.get(i);
	}

	@Override
	public int inFlight(int i) {
		return this.load.get(i)[0];
	}

	@Override
	public int slots(int i) {
		return this.load.get(i)[1];
	}

	@Override
	public long now() {
		return this.now;
	}

}
