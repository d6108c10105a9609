// Wait percentiles per tier on the Queues page, refreshed every five seconds.
(function () {
  const canvas = document.getElementById('waits');
  if (!canvas || typeof Chart === 'undefined') {
    return;
  }
  const colours = { P0: '#d64545', P1: '#e59f2f', P2: '#3b82f6' };
  const chart = new Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { title: { display: true, text: 'ms' }, beginAtZero: true } },
      plugins: { legend: { position: 'bottom' } }
    }
  });
  function refresh() {
    fetch(canvas.dataset.source, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((response) => response.ok ? response.json() : Promise.reject(response.status))
      .then((data) => {
        const tiers = Object.keys(data.tiers);
        const first = data.tiers[tiers[0]] || [];
        chart.data.labels = first.map((p) => new Date(p.endMillis).toLocaleTimeString());
        chart.data.datasets = [];
        tiers.forEach((tier) => {
          chart.data.datasets.push({ label: tier + ' p99', data: data.tiers[tier].map((p) => p.p99),
            borderColor: colours[tier], backgroundColor: colours[tier], pointRadius: 0 });
          chart.data.datasets.push({ label: tier + ' p50', data: data.tiers[tier].map((p) => p.p50),
            borderColor: colours[tier], borderDash: [4, 4], pointRadius: 0 });
        });
        chart.update();
        canvas.dataset.loaded = 'true';
      })
      .catch(() => { /* keep the last picture */ });
  }
  refresh();
  setInterval(refresh, 5000);
})();
