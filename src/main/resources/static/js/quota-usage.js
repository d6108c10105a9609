// Draws a tenant's daily token usage by tier from the data the page carries (no inline script: CSP is script-src 'self').
(function () {
  var canvas = document.getElementById('usage-chart');
  if (!canvas || typeof Chart === 'undefined') {
    return;
  }
  var data = JSON.parse(canvas.dataset.usage);
  var colors = { P0: '#d64545', P1: '#e59f2f', P2: '#3b82f6' };
  var datasets = Object.keys(data.series).map(function (tier) {
    return { label: tier, data: data.series[tier], backgroundColor: colors[tier] || '#888', stack: 'tokens' };
  });
  window.tiergateUsageChart = new Chart(canvas, {
    type: 'bar',
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: false,
      scales: { x: { stacked: true, title: { display: true, text: 'day' } },
                y: { stacked: true, beginAtZero: true, title: { display: true, text: 'tokens' } } }
    }
  });
})();
