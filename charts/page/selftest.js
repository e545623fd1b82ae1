// spike report: a self-test for the browser test, run only when the page is
// opened with #selftest. It writes a JSON summary into <pre id="spike-selftest">:
// how many charts drew (a canvas with enough painted pixels), which did not,
// the errors seen, any resource the page fetched, the title, how many <img>
// and executable <script> elements exist, and the verdict text.
(function () {
  "use strict";
  if (location.hash !== "#selftest") { return; }
  function painted(canvas) {
    try {
      var ctx = canvas.getContext("2d");
      var d = ctx.getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
      for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) { n++; } }
      return n;
    } catch (e) {
      return -1;
    }
  }
  function run() {
    var out = { charts: 0, drawn: 0, blank: [], errors: (window.spikeErrors || []).slice(0, 20) };
    var els = document.querySelectorAll("div.chart[id]");
    for (var i = 0; i < els.length; i++) {
      out.charts++;
      var cv = els[i].querySelector("canvas");
      var n = cv ? painted(cv) : 0;
      if (n > 2000) { out.drawn++; } else { out.blank.push(els[i].id + " (" + n + " px)"); }
    }
    out.resources = performance.getEntriesByType("resource").map(function (e) { return e.name; });
    out.title = document.title;
    out.height = document.documentElement.scrollHeight;
    out.images = document.getElementsByTagName("img").length;
    var scripts = document.getElementsByTagName("script"), exec = 0;
    for (var j = 0; j < scripts.length; j++) {
      var t = scripts[j].type;
      if (!t || t === "text/javascript" || t === "module") { exec++; }
    }
    out.scripts = exec;
    var v = document.getElementById("verdict-status");
    out.verdict = v ? v.textContent.trim() : "";
    var h = document.getElementById("verdict-headline");
    out.headline = h ? h.textContent.trim() : "";
    var pre = document.getElementById("spike-selftest");
    pre.textContent = JSON.stringify(out);
    pre.setAttribute("data-done", "1");
  }
  if (document.readyState === "complete") { setTimeout(run, 200); } else { window.addEventListener("load", function () { setTimeout(run, 200); }); }
})();
