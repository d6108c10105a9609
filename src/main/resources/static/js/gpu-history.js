/* The overview's last-hour chart: mean measured GPU utilization and slot occupancy per node, from Prometheus
   (tiergate.metrics.prometheus-url) or this replica's memory; a note under it says which, and why when Prometheus failed. */
(function () {
	'use strict';
	var canvas = document.getElementById('gpu-history');
	if (!canvas || typeof Chart === 'undefined') { return; }
	var chart = null;
	var note = document.getElementById('gpu-history-note');
	function explain(answer) {
		canvas.setAttribute('data-history-source', answer.source || '');
		if (!note) { return; }
		if (answer.warning) {
			note.textContent = 'Prometheus not used: ' + answer.warning + '.';
			note.className = 'history-warning';
		}
		else {
			note.textContent = answer.source === 'prometheus' ? 'Last hour from Prometheus (all replicas).'
				: 'Last hour as this replica saw it since its start.';
			note.className = 'muted';
		}
	}
	function series(history) {
		var byNode = {};
		history.forEach(function (gpu) {
			gpu.points.forEach(function (p) {
				var node = byNode[gpu.node] || (byNode[gpu.node] = {});
				if (typeof p.utilization !== 'number') { return; }
				var slot = node[p.at] || (node[p.at] = { util: 0, n: 0, occ: 0, m: 0 });
				slot.util += p.utilization; slot.n++;
				if (typeof p.slotOccupancy === 'number') { slot.occ += p.slotOccupancy; slot.m++; }
			});
		});
		var datasets = [];
		Object.keys(byNode).sort().forEach(function (node) {
			var times = Object.keys(byNode[node]).sort();
			datasets.push({ label: node + ' GPU utilization', data: times.map(function (t) { var s = byNode[node][t]; return { x: Date.parse(t), y: 100 * s.util / s.n }; }) });
			datasets.push({ label: node + ' slot occupancy', borderDash: [4, 4], data: times.filter(function (t) { return byNode[node][t].m > 0; }).map(function (t) { var s = byNode[node][t]; return { x: Date.parse(t), y: 100 * s.occ / s.m }; }) });
		});
		return datasets;
	}
	function draw() {
		fetch(canvas.getAttribute('data-source'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
			.then(function (response) { return response.json(); })
			.then(function (answer) {
				explain(answer);
				var datasets = series(answer.gpus || []);
				canvas.setAttribute('data-series', String(datasets.length));
				if (chart) { chart.data.datasets = datasets; chart.update('none'); return; }
				chart = new Chart(canvas, {
					type: 'line',
					data: { datasets: datasets },
					options: {
						animation: false, parsing: false, pointRadius: 0,
						scales: {
							x: { type: 'linear', ticks: { callback: function (v) { return new Date(v).toLocaleTimeString(); } } },
							y: { min: 0, max: 100, title: { display: true, text: '%' } }
						}
					}
				});
			})
			.catch(function () { });
	}
	draw();
	setInterval(draw, 30000);
})();
