// imdb-leap explore: the page's script. Every value from the server is JSON; text goes into the
// page with textContent only (never innerHTML), so a review cannot become markup. POSTs carry the
// session token from the page's <meta name="explore-token">.
"use strict";
(function () {
  const TOKEN = document.querySelector('meta[name="explore-token"]').content;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf"];
  const $ = (id) => document.getElementById(id);
  let map = null, selected = [], current = null;  // current: the open review (id, label)
  let typed = null;  // the typed text whose predictions are shown (null while a review's are)

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function num(v, digits) {
    return v === null || v === undefined ? "–" : (typeof v === "number" ? v.toFixed(digits === undefined ? 3 : digits) : String(v));
  }
  function label(v) { return v === null || v === undefined ? "unlabeled" : (v >= 0.5 ? "positive" : "negative"); }
  async function fail(response) { throw new Error(response.status + ": " + (await response.text())); }
  async function getJSON(url) {
    const r = await fetch(url);
    if (!r.ok) await fail(r);
    return r.json();
  }
  async function post(url, value) {
    const r = await fetch(url, {method: "POST", body: JSON.stringify(value),
                                headers: {"Content-Type": "application/json", "X-Explore-Token": TOKEN}});
    if (!r.ok) await fail(r);
    return r;
  }
  function showStatus(text) { $("status").textContent = text; }

  async function waitReady() {
    for (;;) {
      const s = await getJSON("/api/status");
      if (s.error) { showStatus("error: " + s.error); throw new Error(s.error); }
      if (s.ready) return;
      showStatus("loading: " + s.stage + "…");
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  function option(select, value, text) {
    const o = el("option", text); o.value = value; select.appendChild(o);
  }

  // The marker's colour attributes for field `f` (an /api/field answer), nested as newPlot takes them.
  function colorOf(f) {
    const title = {text: f.name.replace(/</g, "&lt;")};
    if (f.kind === "categorical") {
      const n = f.categories.length;
      const scale = [];
      f.categories.forEach((c, i) => {
        const color = PALETTE[i % PALETTE.length];
        scale.push([i / n, color], [(i + 1) / n, color]);
      });
      return {color: f.values, colorscale: scale, cmin: -0.5, cmax: n - 0.5, colorbar: {title: title,
        tickvals: f.categories.map((c, i) => i),
        ticktext: f.categories.map((c) => c.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"))}};
    }
    const finite = f.values.filter((v) => v !== null).sort((a, b) => a - b);
    const lo = finite.length ? finite[Math.floor(finite.length * 0.01)] : 0;
    const hi = finite.length ? finite[Math.floor((finite.length - 1) * 0.99)] : 1;
    return {color: f.values, colorscale: "Viridis", cmin: lo, cmax: hi > lo ? hi : lo + 1,
            colorbar: {title: title, tickvals: null, ticktext: null}};
  }

  // Nested attributes as restyle takes them: "marker.colorbar.title.text": [value] (one trace).
  function dotted(prefix, value, out) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      Object.entries(value).forEach(([k, v]) => dotted(prefix + "." + k, v, out));
    } else {
      out[prefix] = [value];
    }
    return out;
  }

  async function colorBy(name) {
    const f = await getJSON("/api/field?name=" + encodeURIComponent(name));
    await Plotly.restyle($("map"), dotted("marker", colorOf(f), {}));
  }

  // plotly.js's typed-array form ({dtype: "f4", bdata: base64}) as a Float32Array
  function floats(spec) {
    return new Float32Array(Uint8Array.from(atob(spec.bdata), (c) => c.charCodeAt(0)).buffer);
  }

  async function sizeBy(name) {
    let sizes = 5;
    if (name) {
      const f = await getJSON("/api/field?name=" + encodeURIComponent(name));
      const finite = f.values.filter((v) => v !== null);
      const lo = Math.min(...finite), hi = Math.max(...finite);
      sizes = f.values.map((v) => v === null ? 3 : 3 + 11 * (hi > lo ? (v - lo) / (hi - lo) : 0.5));
    }
    await Plotly.restyle($("map"), {"marker.size": [sizes]});
  }

  function table(rows, headers) {
    const t = el("table");
    const head = el("tr");
    headers.forEach((h) => head.appendChild(el("th", h)));
    t.appendChild(head);
    rows.forEach((r) => { const tr = el("tr"); r.forEach((c) => tr.appendChild(el("td", c))); t.appendChild(tr); });
    return t;
  }

  async function showSelection(ids) {
    selected = ids;
    const box = $("selection"), stats = $("selection-stats");
    stats.replaceChildren();
    if (!ids.length) { box.hidden = true; return; }
    const s = await (await post("/api/selection", {ids: ids})).json();
    box.hidden = false;
    stats.appendChild(el("p", s.n + " reviews selected; " + s.n_rest + " in the rest"));
    stats.appendChild(table(s.models.map((m) => [m.model, num(m.selection.accuracy), num(m.rest.accuracy),
      num(m.selection.mean_loss), num(m.rest.mean_loss), num(m.selection.ece), num(m.rest.ece)]),
      ["model", "accuracy (selection)", "accuracy (rest)", "mean loss (selection)", "mean loss (rest)",
       "ECE (selection)", "ECE (rest)"]));
    stats.appendChild(el("p", "metadata fields that differ most (difference of means, in standard deviations):"));
    stats.appendChild(table(s.fields.map((f) => [f.field, num(f.selection), num(f.rest), num(f.difference_sd, 2)]),
      ["field", "selection", "rest", "difference (sd)"]));
    box.dataset.n = String(s.n);
  }

  async function exportSelection() {
    const r = await post("/api/export", {ids: selected});
    const blob = await r.blob();
    const name = (r.headers.get("Content-Disposition") || "").split('filename="')[1] || "selection.csv";
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name.replace(/"$/, "");
    document.body.appendChild(a); a.click(); a.remove();
    showStatus("exported " + selected.length + " reviews (a copy is in the output folder's exports/)");
  }

  function heatmaps(list, box) {
    box.replaceChildren();
    list.forEach((h) => {
      ["positive", "negative"].forEach((cls) => {
        const title = h.model + " toward " + cls + (h.explained_by !== h.model ? " (explained by " + h.explained_by + ")" : "")
          + (h.truncated ? "; the model read only the start" : "");
        box.appendChild(el("div", title, "muted"));
        const heat = el("div", null, "heat");
        heat.dataset.model = h.model; heat.dataset.target = cls;
        h[cls].forEach((w, i) => {
          if (i) heat.appendChild(document.createTextNode(" "));
          const span = el("span", w.word, w.oov ? "w oov" : "w");
          span.style.background = w.background;
          span.title = w.title;
          heat.appendChild(span);
        });
        box.appendChild(heat);
      });
    });
  }

  async function openReview(id) {
    const r = await getJSON("/api/review/" + id);
    $("review").hidden = false;
    $("review").dataset.id = String(id);
    $("review-title").textContent = "Review #" + r.id + " (" + r.sample_id + "), ground truth: " + label(r.label)
      + ", cluster " + r.cluster;
    $("review-text").textContent = r.text;
    $("edit-text").value = r.text;
    current = {id: id, label: r.label};
    typed = null;
    $("edit-diff").hidden = true;
    $("pair-controls").hidden = true;
    $("pairs-status").textContent = "";
    $("predictions").replaceChildren(table(r.predictions.map((p) => [p.model, label(p.prediction),
      num(p.p_positive), num(p.loss)]), ["model", "prediction", "p(positive)", "loss"]));
    const n = $("neighbours");
    n.replaceChildren();
    r.neighbours.forEach((x) => {
      const b = el("button", "#" + x.id + " (" + label(x.label) + ", similarity " + num(x.similarity) + "): "
        + x.snippet, "neighbour");
      b.type = "button";
      b.addEventListener("click", () => openReview(x.id).catch(report));
      n.appendChild(b);
    });
    $("metadata").replaceChildren(...Object.entries(r.metadata).map(([k, v]) => {
      const tr = el("tr"); tr.appendChild(el("th", k)); tr.appendChild(el("td", num(v))); return tr;
    }));
    const box = $("heatmaps");
    box.replaceChildren(el("p", "computing integrated gradients…", "muted"));
    box.dataset.id = "";
    const h = await (await post("/api/heatmap", {id: id})).json();
    if ($("review").dataset.id !== String(id)) return;  // another review was opened meanwhile
    heatmaps(h.heatmaps, box);
    box.dataset.id = String(id);
  }

  function showDiff(pieces) {
    const box = $("edit-diff");
    box.replaceChildren(...pieces.map((p) => p.op === "equal" ? document.createTextNode(p.text)
      : el(p.op === "insert" ? "ins" : "del", p.text, p.op === "insert" ? "ins" : "del")));
    box.hidden = false;
  }

  function showPredicted(predictions, text, suffix) {
    $("predictions").replaceChildren(table(predictions.map((p) => [p.model + suffix, label(p.prediction),
      num(p.p_positive), "–"]), ["model", "prediction", "p(positive)", "loss"]));
    typed = text;
  }

  // A typed text's heat maps, asked for once its predictions are shown (they come at once, these
  // take integrated gradients); drawn only if that text is still the one shown, then marked `mark`.
  async function explainText(text, mark) {
    $("heatmaps").replaceChildren(el("p", "computing integrated gradients…", "muted"));
    $("heatmaps").dataset.id = "";
    const h = await (await post("/api/heatmap", {text: text})).json();
    if (typed !== text) return;  // another text or review is shown meanwhile
    heatmaps(h.heatmaps, $("heatmaps"));
    $("heatmaps").dataset.id = mark;
  }

  async function openText(text, title) {  // a free text, not a review of the state: predicted as an edit is
    $("review").hidden = false;
    $("review").dataset.id = "text";
    $("review-title").textContent = title;
    $("review-text").textContent = text;
    $("edit-text").value = text;
    current = {id: null, label: null};
    ["edit-diff", "pair-controls"].forEach((name) => { $(name).hidden = true; });
    ["neighbours", "metadata", "predictions"].forEach((name) => $(name).replaceChildren());
    $("heatmaps").replaceChildren(el("p", "predicting…", "muted"));
    $("heatmaps").dataset.id = "";
    const r = await (await post("/api/edit", {text: text})).json();
    if ($("review").dataset.id !== "text" || $("review-text").textContent !== text) return;
    showPredicted(r.predictions, text, "");
    await explainText(text, "text");
  }

  async function repredict() {
    const text = $("edit-text").value;
    const r = await (await post("/api/edit", current.id === null ? {text: text} : {text: text, id: current.id})).json();
    showPredicted(r.predictions, text, " (edited)");
    if (current.id !== null) {  // a free text has no original to diff or pair with
      showDiff(r.diff);
      $("pair-label").value = current.label === null ? (r.predictions[0].p_positive >= 0.5 ? "positive" : "negative")
        : (current.label >= 0.5 ? "negative" : "positive");  // a counterfactual flips the original's class
      $("pair-controls").hidden = false;
    }
    await explainText(text, "edited");
  }

  async function savePair() {
    const s = await (await post("/api/pairs", {id: current.id, text: $("edit-text").value,
                                              label: $("pair-label").value})).json();
    $("pairs-status").textContent = "saved pair " + s.batch_id + " (the output folder's " + s.export + ")";
    $("pairs-status").dataset.saved = String(s.batch_id);
    await showPairs();
  }

  async function showPairs() {
    const s = await getJSON("/api/pairs");
    $("pairs").hidden = !s.n;
    $("pairs-export").textContent = s.n + " saved, written to the output folder's " + s.export
      + " (train on them: IMDB_CAD=<that folder> imdb-leap train --counterfactual)";
    $("pairs-list").replaceChildren(...s.pairs.map((p) => {
      const b = el("button", p.batch_id + ": " + p.original_label + " → " + p.revised_label + ", "
        + (p.id === null ? p.sample_id + " (not in this state)" : "#" + p.id) + ": " + p.revised, "neighbour");
      b.type = "button";
      b.disabled = p.id === null;
      b.addEventListener("click", () => openReview(p.id).catch(report));
      return b;
    }));
    $("pairs").dataset.n = String(s.n);
  }

  async function selectRows(ids) {
    await Plotly.restyle($("map"), {selectedpoints: [ids.length ? ids : null]});
    await showSelection(ids);
  }

  async function showComparison() {
    const q = "?a=" + encodeURIComponent($("compare-a").value) + "&b=" + encodeURIComponent($("compare-b").value);
    const c = await getJSON("/api/compare" + q);
    $("compare-summary").textContent = c.a + " against " + c.b + " on " + c.n + " reviews: they disagree on "
      + c.disagree.length + "; McNemar p = " + num(c.mcnemar_p, 4);
    $("select-disagree").onclick = () => selectRows(c.disagree).catch(report);
    const matrix = $("compare-matrix");
    const head = el("tr");
    [c.a + " / " + c.b, ...c.classes].forEach((h) => head.appendChild(el("th", h)));
    matrix.replaceChildren(head);
    c.classes.forEach((name, i) => {
      const tr = el("tr");
      tr.appendChild(el("th", name));
      c.cells[i].forEach((ids, j) => {
        const b = el("button", c.matrix[i][j], "cell");
        b.type = "button";
        b.disabled = !ids.length;
        b.addEventListener("click", () => selectRows(ids).catch(report));
        const td = el("td"); td.appendChild(b); tr.appendChild(td);
      });
      matrix.appendChild(tr);
    });
    const rw = c.right_wrong;
    $("compare-right-wrong").replaceChildren(table(rw.rows.map((r, i) => [r, ...rw.counts[i]]), ["", ...rw.columns]));
    $("compare-largest").replaceChildren(...c.largest.map((x) => {
      const b = el("button", "#" + x.id + " (" + label(x.label) + "): " + c.a + " " + label(x.prediction_a) + " loss "
        + num(x.loss_a) + ", " + c.b + " " + label(x.prediction_b) + " loss " + num(x.loss_b) + "; " + x.snippet,
        "neighbour");
      b.type = "button";
      b.addEventListener("click", () => openReview(x.id).catch(report));
      return b;
    }));
    $("compare").hidden = false;
    $("compare").dataset.pair = c.a + ":" + c.b;
  }

  function report(error) { showStatus("error: " + error.message); }

  async function main() {
    await waitReady();
    map = await getJSON("/api/map");
    showStatus(map.n + " reviews; models: " + map.models.join(", ")
      + ". Click a point to open its review; box or lasso select to compare a slice with the rest.");
    const colorSelect = $("color-by"), sizeSelect = $("size-by");
    map.options.forEach((o) => {
      option(colorSelect, o.name, o.name);
      if (o.kind === "numeric") option(sizeSelect, o.name, o.name);
    });
    const div = $("map");
    await Plotly.newPlot(div, [{type: "scattergl", mode: "markers", x: floats(map.x), y: floats(map.y),
      hoverinfo: "text", marker: {size: 5, opacity: 0.8, showscale: true, ...colorOf(map.color)}}],
      {margin: {l: 30, r: 10, t: 10, b: 30}, dragmode: "lasso", hovermode: "closest",
       xaxis: {showticklabels: false}, yaxis: {showticklabels: false}},
      {displaylogo: false, responsive: true});
    colorSelect.value = map.color.name;
    document.body.dataset.map = "painted";  // the first paint: what the benchmark times, from navigation
    performance.mark("map-painted");
    await Plotly.restyle(div, {text: [await getJSON("/api/hover")]});  // the labels, once the points show
    colorSelect.addEventListener("change", () => colorBy(colorSelect.value).catch(report));
    sizeSelect.addEventListener("change", () => sizeBy(sizeSelect.value).catch(report));
    div.on("plotly_click", (e) => { if (e.points.length) openReview(e.points[0].pointIndex).catch(report); });
    div.on("plotly_selected", (e) => showSelection(e ? e.points.map((p) => p.pointIndex) : []).catch(report));
    div.on("plotly_deselect", () => showSelection([]).catch(report));
    $("export").addEventListener("click", () => exportSelection().catch(report));
    $("repredict").addEventListener("click", () => repredict().catch(report));
    $("save-pair").addEventListener("click", () => savePair().catch(report));
    await showPairs();
    if (map.models.length > 1) {
      ["compare-a", "compare-b"].forEach((name, i) => {
        map.models.forEach((m) => option($(name), m, m));
        $(name).value = map.models[i];
        $(name).addEventListener("change", () => showComparison().catch(report));
      });
      await showComparison();
    }
    for (const panel of window.imdbExplore.panels) await panel();  // the later scripts' panels
    document.body.dataset.render = "done";
  }

  document.addEventListener("DOMContentLoaded", () => main().catch((e) => {
    report(e);
    document.body.dataset.render = "failed";
  }));
  window.imdbExplore = {openReview: openReview, openText: openText, showSelection: showSelection,
    selectRows: selectRows, el: el, num: num, getJSON: getJSON, post: post, report: report, panels: []};
})();
