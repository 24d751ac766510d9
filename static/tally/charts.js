/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">.
 * Each series gets a colour AND a fill pattern (stripes, dots, cross-hatch...), and every chart has
 * a legend and the same figures in a table nearby, so nothing depends on telling colours apart. */
(function () {
  "use strict";
  var COLOURS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#833c0b"];
  var locale = document.documentElement.lang || "en";

  function pattern(index, colour) {
    var size = 10, c = document.createElement("canvas");
    c.width = c.height = size;
    var g = c.getContext("2d");
    g.fillStyle = colour; g.globalAlpha = 0.85; g.fillRect(0, 0, size, size);
    g.globalAlpha = 1; g.strokeStyle = "#fff"; g.fillStyle = "#fff"; g.lineWidth = 2;
    switch (index % 6) {
      case 0: break;                                                  /* solid */
      case 1: g.beginPath(); g.moveTo(0, size); g.lineTo(size, 0); g.stroke(); break;  /* diagonal */
      case 2: g.beginPath(); g.arc(5, 5, 1.8, 0, 2 * Math.PI); g.fill(); break;         /* dots */
      case 3: g.beginPath(); g.moveTo(0, 5); g.lineTo(size, 5); g.stroke(); break;     /* horizontal */
      case 4: g.beginPath(); g.moveTo(5, 0); g.lineTo(5, size); g.stroke(); break;     /* vertical */
      default: g.beginPath(); g.moveTo(0, 0); g.lineTo(size, size); g.moveTo(size, 0); g.lineTo(0, size); g.stroke();
    }
    return g.createPattern(c, "repeat");
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var money = new Intl.NumberFormat(locale, { style: "currency", currency: spec.currency || "EUR" });
    var datasets = spec.datasets.map(function (d, i) {
      var colour = COLOURS[i % COLOURS.length];
      var single = spec.datasets.length === 1;
      return {
        label: d.label, data: d.data, borderColor: colour, borderWidth: 1,
        backgroundColor: single ? colour : pattern(i, colour)
      };
    });
    var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, ticks: { callback: function (v) { return money.format(v); } } };
    var labelAxis = { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } };
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: spec.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + money.format(ctx.parsed[spec.horizontal ? "x" : "y"]); } } }
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
