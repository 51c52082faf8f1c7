// parley: the little the pages need a browser for. No inline script (the
// Content-Security-Policy forbids it); each feature finds its elements.
"use strict";

// The clock controls show their time as soon as it is picked.
document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
  el.addEventListener("change", function () { if (el.form) el.form.submit(); });
});

// Live: new entries arrive over Server-Sent Events; the page says so and
// offers to show them (a page placed in the past is left alone).
(function () {
  var live = document.getElementById("live");
  var size = Number(document.body.dataset.size || 0);
  if (!live || !window.EventSource || !size || location.search.indexOf("as_of=") >= 0 || location.search.indexOf("known_at=") >= 0) return;
  var es = new EventSource("/api/v1/feed?from=" + size);
  var seen = 0;
  es.addEventListener("entry", function (ev) {
    seen++;
    var e = JSON.parse(ev.data);
    var entry = JSON.parse(JSON.stringify(e.entry));
    live.hidden = false;
    live.textContent = "";
    var a = document.createElement("a");
    a.href = location.pathname + location.search;
    a.textContent = seen + (seen === 1 ? " new entry" : " new entries") + " (latest #" + e.index + ", " + entry.type + "): show them";
    live.appendChild(a);
    document.dispatchEvent(new CustomEvent("parley:entry", { detail: e }));
  });
  es.onerror = function () { /* the browser reconnects with Last-Event-ID */ };
})();
