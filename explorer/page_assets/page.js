// The cowspec explorer page: traces step by step, states and their successors, views.
// Reads the JSON the page embeds (explorer/explore.py); needs no server and no network.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const S = D.strings;
  const history = [];
  let current = null;
  let shown = { trace: 0, step: 0, extra: null };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.addEventListener("click", v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }
  function clear(id) { const e = document.getElementById(id); e.textContent = ""; return e; }
  function fieldsOf(row) {
    const m = new Map();
    for (let i = 0; i < row.length; i += 2) m.set(row[i], row[i + 1]);
    return m;
  }
  function stateLink(sid) {
    return el("span", { class: "link", "data-state": String(sid),
                        onclick: () => go({ panel: "state", id: sid }) }, "state " + sid);
  }

  // -- navigation ------------------------------------------------------------------
  function go(where, noHistory) {
    if (current && !noHistory) history.push(current);
    current = where;
    document.getElementById("back-btn").disabled = history.length === 0;
    for (const p of ["trace", "state", "view"]) {
      document.getElementById("panel-" + p).classList.toggle("active", p === where.panel);
      document.getElementById("tab-" + p).classList.toggle("active", p === where.panel);
    }
    if (where.panel === "trace") showTrace(where);
    if (where.panel === "state") showState(where.id);
    if (where.panel === "view") showView(where.view, where.label);
  }
  function back() { if (history.length) go(history.pop(), true); }

  // -- traces ----------------------------------------------------------------------
  function traceList() {
    const list = D.traces.slice();
    if (shown.extra) list.push(shown.extra);
    return list;
  }
  function traceTitle(t) {
    if (t.kind === "replay" || t.kind === "path") return t.name;
    const how = t.judgement === "pass" ? " as expected" : t.judgement === "fail" ? " (FAIL)" : "";
    return t.kind + " " + t.name + " " + t.verdict + how + " (" + t.steps.length + " states)";
  }
  function showTrace(where) {
    const list = traceList();
    const select = clear("trace-select");
    list.forEach((t, i) => select.appendChild(el("option", { value: String(i) }, traceTitle(t))));
    if (!list.length) {
      clear("steps"); clear("step-state"); clear("step-action"); clear("why");
      document.getElementById("trace-info").textContent = "No trace: every property holds " +
        "as checked. Pick a state (States) to walk from it.";
      return;
    }
    const ti = Math.min(where.trace ?? shown.trace, list.length - 1);
    const t = list[ti];
    const si = Math.min(where.step ?? 0, t.steps.length - 1);
    shown.trace = ti; shown.step = si;
    select.value = String(ti);
    const info = clear("trace-info");
    if (t.replay) info.append("replay string: ", el("span", { class: "replay", id: "replay" }, t.replay));
    const steps = clear("steps");
    t.steps.forEach((s, i) => {
      const li = el("li", { class: i === si ? "selected" : "", "data-step": String(i),
                            onclick: () => go({ panel: "trace", trace: ti, step: i }) }, s.label);
      steps.appendChild(li);
    });
    const step = t.steps[si];
    const prev = si > 0 ? fieldsOf(t.steps[si - 1].row) : null;
    const table = el("table", { id: "state-table" }, el("tr", {}, el("th", {}, "field"), el("th", {}, "value")));
    const row = fieldsOf(step.row);
    for (const [f, v] of row) {
      const changed = prev !== null && prev.get(f) !== v;
      table.appendChild(el("tr", { class: changed ? "changed" : "" }, el("td", {}, D.fields[f]), el("td", {}, S[v])));
    }
    const head = el("div", {}, el("b", {}, "step " + (si + 1) + " of " + t.steps.length + ": "), step.label, " ",
      step.state >= 0 ? stateLink(step.state) : el("span", { class: "dim" }, "(not among the states kept)"));
    const box = clear("step-state");
    box.append(head, el("div", { class: "dim" }, "highlighted: fields changed by this step"), table);
    showAction(clear("step-action"), step.action);
    const why = clear("why");
    if (si === t.steps.length - 1 && t.why && t.why.length) {
      why.append(el("h3", {}, "Why " + t.name + " is " + t.verdict + " here"), whyTree(t.why));
    }
  }
  function whyTree(nodes) {
    const ul = el("ul", {});
    for (const w of nodes) {
      const li = el("li", {}, el("code", { class: w.value === "false" ? "false" : "" }, w.text + " = " + w.value));
      if (w.note) li.append(" ", el("span", { class: "dim" }, "[" + w.note + "]"));
      if (w.parts.length) li.appendChild(whyTree(w.parts));
      ul.appendChild(li);
    }
    return ul;
  }
  function showAction(box, a) {
    if (a === null || a === undefined) { box.append(el("div", { class: "dim" }, "initial state")); return; }
    const act = D.actions[a];
    box.append(el("div", { class: "action", id: "action-info" },
      el("b", {}, "action " + act.name), act.pos ? " at " + act.pos : "",
      act.line ? el("div", {}, el("code", {}, act.line)) : null,
      act.doc ? el("div", {}, act.doc) : null,
      act.tags.length ? el("div", { class: "tags" }, act.tags.join("  ")) : null));
  }

  // -- states ----------------------------------------------------------------------
  function pathTo(sid) {
    const chain = [];
    for (let s = sid; s >= 0; s = D.states[s].parent[0]) chain.push(s);
    chain.reverse();
    const steps = chain.map((s, i) => {
      const st = D.states[s];
      if (i === 0) return { label: "initial state", action: null, state: s, row: st.row };
      const [p, k] = st.parent;
      const e = D.states[p].edges[k];
      return { label: S[e[1]], action: e[0], state: s, row: st.row };
    });
    return { name: "shortest path to state " + sid, kind: "path", steps: steps, why: [] };
  }
  function showState(sid) {
    const st = D.states[sid];
    const head = clear("state-head");
    head.append(el("h2", {}, "state " + sid), "BFS level " + st.level + " ");
    if (st.violated.length) {
      head.append(el("span", { class: st.severity === 1 ? "expected" : "bad" },
        "violates " + st.violated.join(", ") + (st.severity === 1 ? " (expected)" : "")));
    }
    head.append(" ", el("button", { id: "path-btn", onclick: () => {
      shown.extra = pathTo(sid);
      go({ panel: "trace", trace: traceList().length - 1, step: pathTo(sid).steps.length - 1 });
    } }, "shortest path to here"));
    const row = fieldsOf(st.row);
    const fields = clear("state-fields");
    fields.append(el("tr", {}, el("th", {}, "field"), el("th", {}, "value")));
    for (const [f, v] of row) fields.appendChild(el("tr", {}, el("td", {}, D.fields[f]), el("td", {}, S[v])));
    const succ = clear("succ-table");
    succ.append(el("tr", {}, el("th", {}, "action"), el("th", {}, "to"), el("th", {}, "changes")));
    st.edges.forEach(([a, label, t]) => {
      let diff = "";
      if (t >= 0) {
        const other = fieldsOf(D.states[t].row);
        const parts = [];
        for (const [f, v] of other) if (row.get(f) !== v) parts.push(D.fields[f] + ": " + (row.has(f) ? S[row.get(f)] : "-") + " \u2192 " + S[v]);
        diff = parts.length ? parts.join("; ") : "(no change)";
      }
      const act = D.actions[a];
      succ.appendChild(el("tr", { class: "succ" },
        el("td", { title: act.pos + (act.tags.length ? "  " + act.tags.join(" ") : "") }, S[label]),
        el("td", {}, t >= 0 ? stateLink(t) : el("span", { class: "dim" }, "beyond the states kept")),
        el("td", {}, diff)));
    });
    if (!st.edges.length) succ.append(el("tr", {}, el("td", { colspan: "3", class: "bad" }, "no successor (deadlock)")));
  }

  // -- views -----------------------------------------------------------------------
  function showView(vi, label) {
    const select = document.getElementById("view-select");
    const box = clear("view-body");
    if (!D.views.length) { box.append("This model has no views."); return; }
    vi = vi ?? 0;
    select.value = String(vi);
    const v = D.views[vi];
    if (v.doc) box.append(el("p", {}, v.doc));
    const left = el("div", { class: "list" });
    const right = el("div", { class: "grow" });
    box.append(el("div", { class: "cols" }, left, right));
    if (v.svg) {
      const svg = el("div", { class: "svg", id: "view-svg" });
      svg.innerHTML = v.svg;
      right.append(svg);
    } else {
      right.append(el("p", { class: "dim" }, "(not drawn: Graphviz's dot is missing or the view has too many labels)"));
    }
    const nodes = el("table", { id: "labels" }, el("tr", {}, el("th", {}, "label"), el("th", {}, "states"), el("th", {}, "")));
    v.nodes.forEach((n) => {
      nodes.appendChild(el("tr", { class: n.label === label ? "changed" : "" },
        el("td", {}, el("span", { class: "link", "data-label": n.label, onclick: () => go({ panel: "view", view: vi, label: n.label }) }, n.label)),
        el("td", {}, String(n.states)), el("td", {}, n.initial ? "initial" : "")));
    });
    left.append(el("h3", {}, "labels"), nodes);
    if (label !== undefined) {
      const n = v.nodes.find((x) => x.label === label);
      const list = el("div", { id: "label-states" }, el("b", {}, "states with label " + label + ": "));
      (n ? n.ids : []).slice(0, 200).forEach((sid) => list.append(stateLink(sid), " "));
      if (n && n.ids.length > 200) list.append("... (" + n.ids.length + " kept)");
      if (n && !n.ids.length) list.append(el("span", { class: "dim" }, "none among the states kept"));
      left.append(list);
    }
    const edges = el("table", { id: "view-edges" }, el("tr", {}, el("th", {}, "from"), el("th", {}, "to"), el("th", {}, "action"), el("th", {}, "transitions")));
    v.edges.forEach(([s, t, a, count, sev]) => {
      edges.appendChild(el("tr", {}, el("td", {}, s), el("td", {}, t),
        el("td", { class: sev === 2 ? "bad" : sev === 1 ? "expected" : "" }, a), el("td", {}, String(count))));
    });
    box.append(el("h3", {}, "transitions between labels"), edges);
  }

  // -- set up ----------------------------------------------------------------------
  document.getElementById("tab-trace").addEventListener("click", () => go({ panel: "trace", trace: shown.trace, step: shown.step }));
  document.getElementById("tab-state").addEventListener("click", () => go({ panel: "state", id: current && current.panel === "state" ? current.id : 0 }));
  document.getElementById("tab-view").addEventListener("click", () => go({ panel: "view", view: 0 }));
  document.getElementById("back-btn").addEventListener("click", back);
  document.getElementById("trace-select").addEventListener("change", (e) => go({ panel: "trace", trace: Number(e.target.value), step: 0 }));
  const vs = document.getElementById("view-select");
  D.views.forEach((v, i) => vs.appendChild(el("option", { value: String(i) }, v.name)));
  vs.addEventListener("change", (e) => go({ panel: "view", view: Number(e.target.value) }));
  document.getElementById("prev-btn").addEventListener("click", () => go({ panel: "trace", trace: shown.trace, step: Math.max(0, shown.step - 1) }));
  document.getElementById("next-btn").addEventListener("click", () => go({ panel: "trace", trace: shown.trace, step: shown.step + 1 }));
  if (!D.states.length) document.getElementById("tab-state").disabled = true;
  go({ panel: "trace", trace: 0, step: 0 });
})();
