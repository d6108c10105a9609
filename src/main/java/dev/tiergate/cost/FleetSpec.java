package dev.tiergate.cost;

import java.util.List;

/**
 * A fleet to simulate: GPUs of one product, shared alike, and the models deployed on
 * their slices, each endpoint on one slice.
 *
 * @param gpu the GPU product ({@code nvidia.com/gpu.product}), one of
 * {@link Catalog#gpus()}
 * @param gpus how many physical GPUs, 1 or more
 * @param sharing how each GPU is shared
 * @param replicas slices per GPU (1 for {@code NONE})
 * @param models the deployments; their slice shares sum to at most 1
 */
public record FleetSpec(String gpu, int gpus, SharingStrategy sharing, int replicas, List<Deployment> models) {

	/**
	 * Validates the fleet.
	 * @throws IllegalArgumentException naming the field that is wrong
	 */
	public FleetSpec {
		if (gpu == null || gpu.isBlank()) {
			throw new IllegalArgumentException("gpu must be given; known: " + Catalog.gpus());
		}
		Catalog.gpu(gpu);
		if (gpus < 1 || gpus > 100_000) {
			throw new IllegalArgumentException("gpus must be between 1 and 100000, was " + gpus);
		}
		if (sharing == null) {
			throw new IllegalArgumentException("sharing must be NONE, TIME_SLICING or MPS");
		}
		new SliceShare(sharing, replicas);
		if (models == null || models.isEmpty()) {
			throw new IllegalArgumentException("models must list at least one deployment");
		}
		models = List.copyOf(models);
		double shares = 0;
		for (Deployment deployment : models) {
			shares += deployment.sliceShare();
		}
		if (shares > 1 + 1e-9) {
			throw new IllegalArgumentException("models[].sliceShare must sum to at most 1, sum to " + shares);
		}
	}

	/**
	 * The default fleet: 8 x A100 80GB shared by MPS with 4 replicas (32 slices), all
	 * serving Llama 3.1 8B with 8 slots per endpoint.
	 * @return the fleet
	 */
	public static FleetSpec defaults() {
		return new FleetSpec(GpuProfile.a100Sxm80gb().product(), 8, SharingStrategy.MPS, 4,
				List.of(new Deployment(ModelProfile.llama31_8b().name(), 1.0, 8)));
	}

	/**
	 * The slice every endpoint runs on.
	 * @return the share
	 */
	public SliceShare slice() {
		return new SliceShare(this.sharing, this.replicas);
	}

	/**
	 * All slices of the fleet.
	 * @return GPUs x replicas
	 */
	public int slices() {
		return this.gpus * this.replicas;
	}

	/**
	 * The endpoints of one deployment: its share of the slices, at least one.
	 * @param deployment a deployment of this fleet
	 * @return the endpoint count
	 */
	public int endpoints(Deployment deployment) {
		return Math.max(1, (int) Math.floor(slices() * deployment.sliceShare() + 1e-9));
	}

	/**
	 * The same fleet with other GPUs and sharing.
	 * @param gpus GPU count
	 * @param replicas slices per GPU; 1 means no sharing
	 * @return the fleet
	 */
	public FleetSpec with(int gpus, int replicas) {
		SharingStrategy strategy = (replicas == 1) ? SharingStrategy.NONE
				: (this.sharing == SharingStrategy.NONE) ? SharingStrategy.MPS : this.sharing;
		return new FleetSpec(this.gpu, gpus, strategy, replicas, this.models);
	}

	/**
	 * One model deployed on the fleet.
	 *
	 * @param model the model, one of {@link Catalog#models()}
	 * @param sliceShare the share of the fleet's slices its endpoints take, in (0, 1]
	 * @param slots requests one endpoint serves at once (vLLM's max-num-seqs), 1 to 1024
	 */
	public record Deployment(String model, double sliceShare, int slots) {

		/**
		 * Validates the deployment.
		 * @throws IllegalArgumentException naming the field that is wrong
		 */
		public Deployment {
			if (model == null || model.isBlank()) {
				throw new IllegalArgumentException("models[].model must be given; known: " + Catalog.models());
			}
			Catalog.model(model);
			if (!(sliceShare > 0 && sliceShare <= 1)) {
				throw new IllegalArgumentException("models[].sliceShare must be in (0, 1], was " + sliceShare);
			}
			if (slots < 1 || slots > 1024) {
				throw new IllegalArgumentException("models[].slots must be between 1 and 1024, was " + slots);
			}
		}

	}

}
