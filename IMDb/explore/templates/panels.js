// imdb-leap explore: the label-error queue and the behaviour browser, loaded after explore.js and
// using its helpers (window.imdbExplore). Text goes in with textContent only, as there.
"use strict";
(function () {
  const x = window.imdbExplore;
  const $ = (id) => document.getElementById(id);
  const KEYS = {k: "keep", r: "relabel", u: "unsure"};
  let queue = [], at = -1;

  function queueSummary(decided) {
    $("queue-summary").textContent = queue.length ? queue.length + " likely label errors, most likely first; "
      + decided + " decided (kept in the output folder's label_decisions.sqlite, exported as label_decisions.csv)"
      : "no likely label errors in this state (or it has no labels)";
  }

  function item(q, i) {
    const b = x.el("button", "", "neighbour");
    b.type = "button";
    b.textContent = q.rank + ". #" + q.id + " " + q.label + " → " + q.suggested + " (margin " + x.num(q.margin)
      + ")" + (q.decision ? " [" + q.decision + "]" : "") + ": " + q.snippet;
    b.dataset.id = String(q.id);
    b.dataset.decision = q.decision || "";
    b.classList.toggle("current", i === at);
    b.addEventListener("click", () => go(i).catch(x.report));
    return b;
  }

  function drawQueue() {
    $("queue-list").replaceChildren(...queue.map(item));
    queueSummary(queue.filter((q) => q.decision).length);
    $("queue").dataset.at = at < 0 ? "" : String(queue[at].id);
  }

  async function go(i) {
    if (i < 0 || i >= queue.length) return;
    at = i;
    drawQueue();
    const current = $("queue-list").children[i];
    if (current) current.scrollIntoView({block: "nearest"});
    await x.openReview(queue[i].id);
  }

  async function decide(decision) {
    if (at < 0) return;
    const d = await (await x.post("/api/decisions", {id: queue[at].id, decision: decision})).json();
    queue[at].decision = d.decision;
    $("queue").dataset.last = d.id + ":" + d.decision;
    if (at + 1 < queue.length) await go(at + 1); else drawQueue();
  }

  function onKey(e) {
    const tag = (e.target.tagName || "").toLowerCase();
    if (e.ctrlKey || e.metaKey || e.altKey || tag === "textarea" || tag === "input" || tag === "select") return;
    if (KEYS[e.key]) decide(KEYS[e.key]).catch(x.report);
    else if (e.key === "j" || e.key === "n") go(at + 1).catch(x.report);
    else if (e.key === "p") go(at - 1).catch(x.report);
  }

  async function showQueue() {
    const s = await x.getJSON("/api/label-errors");
    queue = s.items;
    drawQueue();
    document.addEventListener("keydown", onKey);
  }

  function caseButton(c) {
    const b = x.el("button", "", "neighbour");
    b.type = "button";
    b.textContent = c.model + ", " + c.test + " (" + c.type + ", " + c.form + "): " + c.texts.join(" ⟶ ")
      + " [p(positive) " + c.p_positive.map((p) => x.num(p)).join(" ⟶ ") + "]";
    b.addEventListener("click", () => x.openText(c.texts[c.texts.length - 1],
      "Behaviour case (free text, not a review of this state): " + c.test).catch(x.report));
    return b;
  }

  async function showBehaviour() {
    const s = await x.getJSON("/api/behaviour");
    if (s.missing) {
      $("behaviour-summary").textContent = s.missing;
      return;
    }
    $("behaviour-summary").textContent = "models " + s.models.join(", ") + "; a case opens as free text";
    $("behaviour-list").replaceChildren(...s.capabilities.map((c) => {
      const box = x.el("div");
      box.appendChild(x.el("h4", c.capability + ": failure rate " + Object.entries(c.failure_rate)
        .map(([m, r]) => m + " " + x.num(r)).join(", ") + "; " + c.cases.length + " failing cases shown"));
      c.cases.forEach((one) => box.appendChild(caseButton(one)));
      return box;
    }));
    $("behaviour").dataset.n = String(s.capabilities.length);
  }

  x.panels.push(showQueue, showBehaviour);
})();
