package dev.tiergate.cost;

import java.util.Map;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.tiergate.problem.TiergateException;
import tools.jackson.databind.node.ObjectNode;

/**
 * The dashboard's "Cost" pages: start a simulation on a trace file with a fleet, follow
 * it with a progress bar, read its report with charts (TTFT CDF per tier, utilization
 * over time, cost against volume with the crossover, the sweep table); and edit the price
 * sheet.
 */
@Controller
class CostPageController {

	private final Simulations simulations;

	private final PriceSheets prices;

	CostPageController(Simulations simulations, PriceSheets prices) {
		this.simulations = simulations;
		this.prices = prices;
	}

	@GetMapping("/cost")
	String cost(Model model) {
		model.addAttribute("traces", this.simulations.traces());
		model.addAttribute("jobs", this.simulations.list().stream().map((job) -> job.view(false)).toList());
		model.addAttribute("prices", this.prices.current());
		model.addAttribute("gpus", Catalog.gpus());
		model.addAttribute("models", Catalog.models());
		return "cost/cost";
	}

	@PostMapping("/cost/simulations")
	String start(@RequestParam String trace, @RequestParam String gpu, @RequestParam String gpus,
			@RequestParam String sharing, @RequestParam String replicas, @RequestParam String model,
			@RequestParam String slots, @RequestParam(defaultValue = "1") String speed,
			@RequestParam(defaultValue = "false") boolean sweep, RedirectAttributes redirect) {
		ObjectNode request = SimulationFiles.JSON.createObjectNode();
		request.put("trace", trace);
		ObjectNode fleet = request.putObject("fleet");
		fleet.put("gpu", gpu);
		fleet.put("sharing", sharing);
		try {
			fleet.put("gpus", Integer.parseInt(gpus.strip()));
			fleet.put("replicas", Integer.parseInt(replicas.strip()));
			fleet.putArray("models")
				.addObject()
				.put("model", model)
				.put("sliceShare", 1.0)
				.put("slots", Integer.parseInt(slots.strip()));
			request.put("speed", Double.parseDouble(speed.strip()));
		}
		catch (NumberFormatException ex) {
			redirect.addFlashAttribute("error", "GPUs, replicas and slots must be whole numbers, speed a number.");
			return "redirect:/cost";
		}
		request.put("sweep", sweep);
		try {
			Simulations.Job job = this.simulations.start(request);
			return "redirect:/cost/simulations/" + job.id();
		}
		catch (TiergateException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
			return "redirect:/cost";
		}
	}

	@GetMapping("/cost/simulations/{id}")
	String simulation(@PathVariable String id, Model model) {
		model.addAttribute("job", this.simulations.get(id).view(false));
		return "cost/simulation";
	}

	@GetMapping(path = "/cost/simulations/{id}.json", produces = "application/json")
	@ResponseBody
	Map<String, Object> status(@PathVariable String id) {
		return this.simulations.get(id).view(true);
	}

	@PostMapping("/cost/prices")
	String prices(@RequestParam String inputPerMillion, @RequestParam String outputPerMillion,
			@RequestParam String gpuHourly, @RequestParam String monthlyOverhead, RedirectAttributes redirect) {
		ObjectNode body = SimulationFiles.JSON.createObjectNode();
		PriceSheet current = this.prices.current();
		try {
			ObjectNode hosted = body.putObject("hosted");
			current.hosted()
				.forEach((name, price) -> hosted.putObject(name)
					.put("inputPerMillion", price.inputPerMillion())
					.put("outputPerMillion", price.outputPerMillion()));
			hosted.putObject(PriceSheet.ANY_MODEL)
				.put("inputPerMillion", number("inputPerMillion", inputPerMillion))
				.put("outputPerMillion", number("outputPerMillion", outputPerMillion));
			ObjectNode gpus = body.putObject("gpuHourly");
			current.gpuHourly().forEach(gpus::put);
			Catalog.gpus().forEach((product) -> gpus.put(product, number("gpuHourly", gpuHourly)));
			body.put("monthlyOverhead", number("monthlyOverhead", monthlyOverhead));
			body.put("source", "edited on the dashboard");
			this.prices.replace(PricesApiController.parse(body));
			redirect.addFlashAttribute("message", "Prices saved.");
		}
		catch (TiergateException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		return "redirect:/cost";
	}

	private static double number(String field, String text) {
		try {
			return Double.parseDouble(text.strip());
		}
		catch (NumberFormatException ex) {
			throw new InvalidCostRequestException(field, "must be a number, was '" + text + "'");
		}
	}

}
