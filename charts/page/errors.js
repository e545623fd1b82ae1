// spike report: collect page errors first, before anything else runs, so the
// self-test (page/selftest.js) can report them.
(function () {
  "use strict";
  var errs = [];
  window.spikeErrors = errs;
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      errs.push("resource failed: " + (t.src || t.href));
    } else {
      errs.push(String(e.message || "error"));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errs.push("unhandled rejection: " + String(e.reason));
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    errs.push("blocked by the page's security policy: " + e.violatedDirective + " " + (e.blockedURI || ""));
  });
  var ce = console.error;
  console.error = function () {
    errs.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return ce.apply(console, arguments);
  };
})();
