/* Follows one simulation: polls its status, moves the progress bar, draws the report when done. */
(function () {
	'use strict';
	var root = document.getElementById('simulation');
	if (!root) { return; }
	var source = root.getAttribute('data-source');
	function poll() {
		fetch(source, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
			.then(function (response) { return response.json(); })
			.then(function (job) {
				document.getElementById('status').textContent = job.status;
				document.getElementById('progress').value = job.progress;
				if (job.status === 'DONE') {
					TiergateSimulationReport.render(job.report, document.getElementById('report'));
				} else if (job.status === 'FAILED') {
					document.getElementById('error').textContent = job.error;
				} else {
					setTimeout(poll, 500);
				}
			})
			.catch(function () { setTimeout(poll, 2000); });
	}
	poll();
})();
