/* The letters figures charts (templates/letters/figures/index.html).
 *
 * CSP-clean: no inline script, no eval, no injected <style>. Each <canvas data-source="id">
 * reads its numbers from the json_script element with that id; the same numbers are in the
 * table beneath it, which is what screen readers use (the canvas is role="img" with a label).
 * Chart.js (static/vendor/chartjs) sets sizes through the CSSOM, which the policy allows.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var Chart = window.Chart;
  var colours = {
    received: "#0b4a8b",
    replied: "#1e6b35",
    replied_on_time: "#6fae84",
    overdue: "#b3261e"
  };
  var root = window.getComputedStyle(document.documentElement);
  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = Math.round(parseFloat(root.fontSize) * 0.8) || 13;
  Chart.defaults.color = "#1b1f24";

  function height(data) {
    if (!data.horizontal) {
      return 320;
    }
    // Horizontal bars: room for every category's bars, whatever the screen width.
    var perCategory = data.series.length * 9 + 14;
    return Math.max(220, data.labels.length * perCategory + 90);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    // Chart.js sizes the canvas to a relatively positioned box of its own.
    canvas.parentElement.style.position = "relative";
    canvas.parentElement.style.height = height(data) + "px";
    var valueAxis = data.horizontal ? "x" : "y";
    var scales = {};
    scales[valueAxis] = { beginAtZero: true, ticks: { precision: 0 } };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series) {
          return {
            label: series.label,
            data: series.data,
            backgroundColor: colours[series.key],
            borderColor: colours[series.key],
            borderWidth: 1
          };
        })
      },
      options: {
        indexAxis: data.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  var canvases = document.querySelectorAll("canvas[data-source]");
  for (var i = 0; i < canvases.length; i += 1) {
    draw(canvases[i]);
  }
})();
