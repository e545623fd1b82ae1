// spike report: draw every chart. Each <div class="chart" id="ID"> has its
// echarts options as JSON in <script type="application/json" id="ID-options">.
// JSON cannot hold functions, so axis label formatters are named by string;
// only "formatter" values that name one of FMT are replaced, and only by
// these fixed functions.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var FMT = {
    "spike:fmt:offset": function (v) {
      var t = Math.max(0, Math.round(v / 1000)), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60), s = t % 60;
      return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
    },
    "spike:fmt:ms": function (v) {
      if (v >= 1000) { return +(v / 1000).toPrecision(3) + " s"; }
      return +Number(v).toPrecision(3) + " ms";
    },
    "spike:fmt:pct": function (v) {
      if (v <= 1) { return "0%"; }
      var p = 100 * (1 - 1 / v), d = Math.max(0, Math.round(Math.log10(v)) - 2);
      return p.toFixed(d) + "%";
    }
  };
  function revive(o) {
    if (!o || typeof o !== "object") { return; }
    for (var k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) { continue; }
      var v = o[k];
      if (k === "formatter" && typeof v === "string" && Object.prototype.hasOwnProperty.call(FMT, v)) {
        o[k] = FMT[v];
      } else if (v && typeof v === "object") {
        revive(v);
      }
    }
  }
  var charts = [];
  var els = document.querySelectorAll("div.chart[id]");
  for (var i = 0; i < els.length; i++) {
    var el = els[i], data = document.getElementById(el.id + "-options");
    if (!data) { continue; }
    try {
      var opt = JSON.parse(data.textContent);
      revive(opt);
      var c = echarts.init(el, null, { renderer: "canvas" });
      c.setOption(opt);
      charts.push(c);
    } catch (e) {
      el.textContent = "This chart could not be drawn: " + e;
      if (window.spikeErrors) { window.spikeErrors.push(el.id + ": " + e); }
    }
  }
  window.spikeCharts = charts;
  window.addEventListener("resize", function () {
    for (var j = 0; j < charts.length; j++) { charts[j].resize(); }
  });
})();
