package dev.tiergate.web;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.proxy.OpenRequests;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.spill.SpillBudget;

/**
 * The dashboard's overview: nodes, GPU slices, pools and endpoints. The fleet part
 * refreshes itself every few seconds.
 */
@Controller
class OverviewPageController {

	private final ClusterView cluster;

	private final EndpointRegistry registry;

	private final SliceInventoryService slices;

	private final SpillBudget spill;

	private final OpenRequests openRequests;

	OverviewPageController(ClusterView cluster, EndpointRegistry registry, SliceInventoryService slices,
			SpillBudget spill, OpenRequests openRequests) {
		this.spill = spill;
		this.openRequests = openRequests;
		this.cluster = cluster;
		this.registry = registry;
		this.slices = slices;
	}

	@GetMapping("/")
	String overview(Model model) {
		fill(model);
		return "overview";
	}

	@GetMapping("/fragments/overview")
	String fleet(Model model) {
		fill(model);
		return "overview :: fleet";
	}

	private void fill(Model model) {
		List<GpuNode> nodes = this.cluster.nodes();
		List<Endpoint> endpoints = this.registry.endpoints();
		Map<String, Pool> pools = new TreeMap<>();
		for (Endpoint endpoint : endpoints) {
			pools.merge(endpoint.model(), Pool.of(endpoint), Pool::plus);
		}
		SliceInventoryService.Slices inventory = this.slices.slices();
		model.addAttribute("picture", SlicePicture.of(inventory));
		model.addAttribute("sliceTotals", inventory.totals());
		model.addAttribute("nodes", nodes);
		model.addAttribute("endpoints", endpoints);
		model.addAttribute("pools", pools.values());
		model.addAttribute("spill", spill());
		model.addAttribute("openRequests", this.openRequests);
		model.addAttribute("totals",
				new Totals(nodes.size(), nodes.stream().mapToInt(GpuNode::gpus).sum(),
						nodes.stream().mapToInt(GpuNode::sliceCapacity).sum(), endpoints.size(),
						endpoints.stream().mapToInt(Endpoint::slots).sum(),
						endpoints.stream().mapToInt(Endpoint::inFlight).sum()));
	}

	private Spill spill() {
		try {
			// The caps are in Redis too.
			return new Spill(this.spill.month().toString(), this.spill.globalSpend(), this.spill.caps().monthlyCap(),
					true);
		}
		catch (RuntimeException ex) {
			// Redis away: the page still shows the fleet.
			return new Spill(this.spill.month().toString(), 0, 0, false);
		}
	}

	/** This month's spill spend against the global cap, US dollars. */
	record Spill(String month, double spend, double cap, boolean known) {
	}

	record Totals(int nodes, int gpus, int slices, int endpoints, int slots, int inFlight) {
	}

	record Pool(String model, int endpoints, int accepting, int slices, int slots, int inFlight) {

		static Pool of(Endpoint e) {
			return new Pool(e.model(), 1, e.accepting() ? 1 : 0, e.slices(), e.slots(), e.inFlight());
		}

		Pool plus(Pool other) {
			return new Pool(this.model, this.endpoints + other.endpoints, this.accepting + other.accepting,
					this.slices + other.slices, this.slots + other.slots, this.inFlight + other.inFlight);
		}

	}

}
