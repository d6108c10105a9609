/*
 * Draws a Tiergate simulation report (the JSON of SimulationReport) into an element:
 * summary, per-tier tables, latency CDF, utilization over time, cost against volume
 * with the crossover, and the sweep table. Used by the dashboard page and inlined into
 * the self-contained HTML report. Needs Chart.js (global Chart).
 */
(function () {
	'use strict';
	var TIERS = ['P0', 'P1', 'P2'];
	var COLORS = { P0: '#c0392b', P1: '#2980b9', P2: '#7f8c8d', fifo: '#8e44ad', static: '#d35400', tiered: '#27ae60' };

	function esc(value) {
		return String(value).replace(/[&<>"']/g, function (c) {
			return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
		});
	}
	function num(value, digits) {
		if (value === null || value === undefined) { return '—'; }
		return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 1 : digits });
	}
	function usd(value) {
		return '$' + Number(value).toLocaleString('en-US', { maximumFractionDigits: 0 });
	}
	function pct(value) {
		return num(value * 100, 1) + '%';
	}

	function runTable(run) {
		if (!run.fits) {
			return '<p class="sim-warning">' + esc(run.name) + ': the model does not fit a slice (weights per replica exceed its memory).</p>';
		}
		var rows = TIERS.map(function (tier) {
			var t = run.tiers[tier];
			if (!t) { return ''; }
			return '<tr><th>' + tier + '</th><td>' + num(t.requests, 0) + '</td><td>' + num(t.completed, 0) + '</td><td>'
				+ num(t.rejected, 0) + '</td><td>' + num(t.preempted, 0) + '</td><td>' + num(t.queueWaitMs.p50) + ' / '
				+ num(t.queueWaitMs.p95) + ' / ' + num(t.queueWaitMs.p99) + '</td><td>' + num(t.ttftMs.p50) + ' / '
				+ num(t.ttftMs.p95) + ' / ' + num(t.ttftMs.p99) + '</td><td>' + num(t.e2eMs.p50) + ' / ' + num(t.e2eMs.p95)
				+ ' / ' + num(t.e2eMs.p99) + '</td><td>' + pct(t.sloAttainment) + '</td><td>' + num(t.throughputRps, 2)
				+ '</td><td>' + num(t.outputTokensPerSecond, 0) + '</td></tr>';
		}).join('');
		return '<h3>' + esc(run.name) + '</h3><table class="sim-table"><thead><tr><th>tier</th><th>requests</th><th>completed</th>'
			+ '<th>rejected</th><th>preempted</th><th>queue wait ms p50/p95/p99</th><th>TTFT ms p50/p95/p99</th>'
			+ '<th>end-to-end ms p50/p95/p99</th><th>SLO attainment</th><th>req/s</th><th>output tok/s</th></tr></thead><tbody>'
			+ rows + '</tbody></table><p>Mean slice utilization ' + pct(run.meanSliceUtilization) + ', GPU-hours '
			+ num(run.gpuHours, 2) + ', scheduler preemptions ' + num(run.schedulerPreemptions, 0)
			+ ', engine preemptions ' + num(run.enginePreemptions, 0) + ', endpoints ' + num(run.endpoints, 0)
			+ (run.spillCost > 0 ? ', spilled to the hosted API ' + TIERS.map(function (tier) {
				return run.tiers[tier] ? tier + ' ' + num(run.tiers[tier].spilled, 0) : '';
			}).join(' ') + ' for ' + usd(run.spillCost) : '') + '.</p>';
	}

	function sweepTable(report) {
		if (!report.sweep || report.sweep.length === 0) { return '<p>No sweep in this run.</p>'; }
		var rec = report.recommendation;
		var rows = report.sweep.map(function (p) {
			var isRec = rec && p.replicas === rec.replicas && p.p0Share === rec.p0Share && p.gpus === rec.gpus
				&& p.spillCap === rec.spillCap && p.placement === rec.placement;
			return '<tr' + (isRec ? ' class="sim-recommended"' : '') + '><td>' + p.gpus + '</td><td>' + p.replicas + '</td><td>'
				+ num(p.p0Share, 2) + '</td><td>' + (p.fits ? 'yes' : 'no') + '</td><td>' + num(p.p0TtftP99Ms) + '</td><td>'
				+ pct(p.p0SloAttainment) + '</td><td>' + num(p.rejected, 0) + '</td><td>' + pct(p.meanSliceUtilization)
				+ '</td><td>' + usd(p.selfHostedMonthly) + '</td><td>' + (p.spillCap >= 0 ? usd(p.spillCap) : '—')
				+ '</td><td>' + usd(p.spillMonthly) + '</td><td>' + usd(p.totalMonthly) + '</td><td>'
				+ (p.meetsSlo ? 'yes' : 'no') + '</td></tr>';
		}).join('');
		return '<table class="sim-table"><thead><tr><th>GPUs</th><th>replicas</th><th>P0 share</th><th>fits</th>'
			+ '<th>P0 TTFT p99 ms</th><th>P0 SLO attainment</th><th>rejected</th><th>slice utilization</th><th>fleet monthly</th>'
			+ '<th>spill cap</th><th>spill monthly</th><th>total monthly</th>'
			+ '<th>meets P0 SLO</th></tr></thead><tbody>' + rows + '</tbody></table>';
	}

	function canvas(root, id, title) {
		var figure = document.createElement('figure');
		figure.className = 'sim-chart';
		figure.innerHTML = '<figcaption>' + esc(title) + '</figcaption><canvas id="' + id + '"></canvas>';
		root.appendChild(figure);
		return figure.querySelector('canvas');
	}

	function render(report, root) {
		var cost = report.cost;
		var rec = report.recommendation;
		var fleet = report.fleet;
		var html = '<h2>Simulation of ' + esc(report.trace) + '</h2>'
			+ '<p>' + num(report.requests, 0) + ' requests over ' + num(report.spanSeconds / 60, 1) + ' min (speed ' + num(report.speed, 3)
			+ 'x, seed ' + esc(report.seed) + '); fleet ' + fleet.gpus + ' x ' + esc(fleet.gpu) + ', ' + esc(fleet.sharing)
			+ ' with ' + fleet.replicas + ' replicas; ' + fleet.models.map(function (m) {
				return esc(m.model) + ' (' + pct(m.sliceShare) + ' of slices, ' + m.slots + ' slots)';
			}).join(', ') + '.</p>'
			+ '<table class="sim-table"><tbody>'
			+ '<tr><th>monthly volume at this rate</th><td>' + num(cost.monthlyRequests, 0) + ' requests</td></tr>'
			+ '<tr><th>self-hosted per month</th><td>' + usd(cost.selfHostedMonthly) + ' (' + fleet.gpus + ' GPUs at $' + num(cost.gpuHourly, 2) + '/h)</td></tr>'
			+ '<tr><th>hosted API per month</th><td>' + usd(cost.hostedMonthly) + ' ($' + num(cost.hostedPerRequest * 1000, 2) + ' per 1,000 requests)</td></tr>'
			+ '<tr><th>savings per month</th><td>' + usd(cost.savingsMonthly) + '</td></tr>'
			+ '<tr><th>break-even volume</th><td>' + (cost.breakEvenMonthlyRequests > 0 ? num(cost.breakEvenMonthlyRequests, 0) + ' requests/month' : 'never') + '</td></tr>'
			+ '<tr><th>recommendation</th><td>' + (rec ? rec.gpus + ' GPUs, ' + rec.replicas + ' replicas, P0 share ' + num(rec.p0Share, 2)
				+ (rec.spillCap >= 0 ? ', spill cap ' + usd(rec.spillCap) + '/month' : '')
				+ ': P0 TTFT p99 ' + num(rec.p0TtftP99Ms) + ' ms, ' + usd(rec.totalMonthly) + '/month'
				: 'no setting of the sweep meets P0 TTFT p99 &lt; ' + num(report.ttftSloMs.P0, 0) + ' ms') + '</td></tr>'
			+ '</tbody></table>';
		var header = document.createElement('section');
		header.innerHTML = html;
		root.appendChild(header);

		var charts = document.createElement('section');
		charts.className = 'sim-charts';
		root.appendChild(charts);
		if (report.tiered.fits) {
			var cdf = [];
			TIERS.forEach(function (tier) {
				var t = report.tiered.tiers[tier];
				if (t && t.ttftCdfMs.length) {
					cdf.push({ label: 'tiered ' + tier, borderColor: COLORS[tier], pointRadius: 0, borderWidth: 2,
						data: t.ttftCdfMs.map(function (ms, i) { return { x: ms, y: (i + 1) / 100 }; }) });
				}
			});
			[report.fifo, report.staticPartition].forEach(function (run) {
				var t = run.fits && run.tiers.P0;
				if (t && t.ttftCdfMs.length) {
					cdf.push({ label: run.name + ' P0', borderColor: COLORS[run.name], borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5,
						data: t.ttftCdfMs.map(function (ms, i) { return { x: ms, y: (i + 1) / 100 }; }) });
				}
			});
			new Chart(canvas(charts, 'sim-cdf', 'TTFT CDF per tier (log scale)'), { type: 'line', data: { datasets: cdf },
				options: { animation: false, parsing: false, scales: { x: { type: 'logarithmic', title: { display: true, text: 'TTFT ms' } },
					y: { min: 0, max: 1, title: { display: true, text: 'fraction of requests' } } } } });

			var labels = report.tiered.sliceUtilization.map(function (v, i) { return num(i * report.tiered.utilizationIntervalSeconds / 60, 1); });
			var util = [report.tiered, report.fifo, report.staticPartition].filter(function (run) { return run.fits; }).map(function (run) {
				return { label: run.name + ' slices busy', data: run.sliceUtilization, borderColor: COLORS[run.name], pointRadius: 0, borderWidth: 1.5 };
			});
			util.push({ label: 'tiered slots occupied', data: report.tiered.slotOccupancy, borderColor: COLORS.tiered, borderDash: [4, 3], pointRadius: 0, borderWidth: 1 });
			new Chart(canvas(charts, 'sim-util', 'Slice utilization over time'), { type: 'line', data: { labels: labels, datasets: util },
				options: { animation: false, scales: { x: { title: { display: true, text: 'minutes' } }, y: { min: 0, max: 1 } } } });
		}
		var curve = cost.curve;
		var costSets = [
			{ label: 'hosted API', data: curve.map(function (p) { return { x: p.monthlyRequests / 1e6, y: p.hostedMonthly }; }), borderColor: '#2c3e50', pointRadius: 2 },
			{ label: 'self-hosted', data: curve.map(function (p) { return { x: p.monthlyRequests / 1e6, y: p.selfHostedMonthly }; }), borderColor: '#27ae60', stepped: 'before', pointRadius: 2 }
		];
		if (cost.breakEvenMonthlyRequests > 0) {
			costSets.push({ label: 'break-even ' + num(cost.breakEvenMonthlyRequests / 1e6, 2) + 'M', borderColor: '#c0392b', borderDash: [5, 5], pointRadius: 4,
				data: [{ x: cost.breakEvenMonthlyRequests / 1e6, y: 0 }, { x: cost.breakEvenMonthlyRequests / 1e6, y: cost.selfHostedMonthly }] });
		}
		new Chart(canvas(charts, 'sim-cost', 'Monthly cost against monthly volume (crossover marked)'), { type: 'line', data: { datasets: costSets },
			options: { animation: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'million requests / month' } },
				y: { title: { display: true, text: 'US$ / month' } } } } });

		var tables = document.createElement('section');
		tables.innerHTML = '<h2>Runs</h2>' + runTable(report.tiered) + runTable(report.fifo) + runTable(report.staticPartition)
			+ '<h2>Sweep</h2>' + sweepTable(report);
		root.appendChild(tables);
	}

	window.TiergateSimulationReport = { render: render };
})();
