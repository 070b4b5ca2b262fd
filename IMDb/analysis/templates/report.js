/* The dashboard's render script: draws each div.plot from its JSON block with the inlined
   plotly.js and reports the outcome on the body element (data-render, data-plots-rendered). */
(function () {
  var status = document.getElementById("render-status");
  var errors = document.getElementById("render-errors");
  function fail(where, e) {
    var msg = where + ": " + (e && e.message ? e.message : e);
    errors.textContent += msg + "\n";
    console.error("dashboard render error: " + msg);
  }
  if (typeof Plotly === "undefined") { fail("plotly.js", "not loaded"); document.body.setAttribute("data-render", "failed"); return; }
  var divs = Array.prototype.slice.call(document.querySelectorAll("div.plot"));
  var jobs = divs.map(function (div) {
    try {
      var fig = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
      var config = {responsive: true, displaylogo: false, toImageButtonOptions: {format: "png", scale: 2}};
      return Plotly.newPlot(div, fig.data, fig.layout, config).then(function () { return true; },
        function (e) { fail(div.id, e); return false; });
    } catch (e) { fail(div.id, e); return Promise.resolve(false); }
  });
  Promise.all(jobs).then(function (ok) {
    var n = ok.filter(Boolean).length;
    status.textContent = n + " of " + divs.length + " plots rendered";
    document.body.setAttribute("data-plots-rendered", String(n));
    document.body.setAttribute("data-render", n === divs.length ? "done" : "failed");
  });
})();
