// evolve dashboard: polls the read-only JSON API and draws tables, SVG plots and MathML.
// No libraries, nothing fetched from elsewhere: the page works offline.
"use strict";

const POLL_MS = 3000;
const DETAIL_MS = 6000;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22"];
const SVG = "http://www.w3.org/2000/svg";
const state = { runs: null, selected: null, overlay: new Set(), touched: false, lastDetail: 0, polls: 0 };

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const num = (v, digits = 5) => (v === null || v === undefined) ? "–" : Number(v).toFixed(digits);
function si(v) {
  if (v === null || v === undefined) return "–";
  for (const [u, s] of [["G", 1e9], ["M", 1e6], ["k", 1e3]]) if (Math.abs(v) >= s) return (v / s).toFixed(1) + u;
  return Number(v).toFixed(0);
}
const seen = new Map();  // what each kind of response last said: unchanged data is not drawn again
async function getJSON(url, kind) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  const text = await response.text();
  if (kind && seen.get(kind) === url + text) return null;
  if (kind) seen.set(kind, url + text);
  return JSON.parse(text);
}

// ----------------------------------------------------------------------------- plots
function lineChart(container, series, opts = {}) {
  const W = opts.width || 640, H = opts.height || 260, L = 56, R = 12, T = 10, B = 34;
  const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  const pts = series.flatMap(s => s.points);
  container.replaceChildren(svg);
  if (!pts.length) { svg.appendChild(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#999" }, "no progress rows yet")); return; }
  let [x0, x1] = [Math.min(...pts.map(p => p[0])), Math.max(...pts.map(p => p[0]))];
  let [y0, y1] = [Math.min(...pts.map(p => p[1])), Math.max(...pts.map(p => p[1]))];
  if (opts.y01) { y0 = Math.min(y0, 0); y1 = Math.max(y1, 1); }
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) y1 = y0 + 1;
  const sx = x => L + (x - x0) / (x1 - x0) * (W - L - R), sy = y => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4, x = x0 + (x1 - x0) * i / 4;
    svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: sy(y), y2: sy(y), stroke: "#e5e7eb" }));
    svg.appendChild(svgEl("text", { x: L - 4, y: sy(y) + 4, "text-anchor": "end", "font-size": 10 }, y.toFixed(3)));
    svg.appendChild(svgEl("text", { x: sx(x), y: H - B + 14, "text-anchor": "middle", "font-size": 10 }, si(x)));
  }
  svg.appendChild(svgEl("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 11 }, opts.xlabel || ""));
  series.forEach((s, k) => {
    const color = s.color || COLORS[k % COLORS.length];
    if (opts.scatter) {
      for (const p of s.points) svg.appendChild(svgEl("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 4, fill: color, class: "point" }));
    } else if (s.points.length) {
      const d = s.points.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join("");
      svg.appendChild(svgEl("path", { d, fill: "none", stroke: color, "stroke-width": 1.6, class: "series", "data-name": s.name }));
    }
    const legend = svgEl("text", { x: L + 8, y: T + 12 + 13 * k, fill: color, class: "legend" }, s.name);
    svg.appendChild(legend);
  });
}

// ----------------------------------------------------------------------------- tables
function renderRuns(data) {
  document.getElementById("roots").textContent = data.roots.join("  ");
  const body = document.querySelector("#runs-table tbody");
  document.getElementById("no-runs").hidden = data.runs.length > 0;
  if (!state.touched) {  // by default: overlay every run seen running (or the newest few)
    const running = data.runs.filter(r => r.status === "running").map(r => r.id);
    if (!state.overlay.size && !running.length) {
      data.runs.slice().sort((a, b) => b.modified - a.modified).slice(0, 5).forEach(r => state.overlay.add(r.id));
    }
    running.forEach(id => state.overlay.add(id));
  }
  if (state.selected === null && data.runs.length) {
    const newest = data.runs.slice().sort((a, b) => b.modified - a.modified)[0];
    state.selected = newest.id;
  }
  const rows = data.runs.map(run => {
    const tr = el("tr", { "data-id": run.id, "data-status": run.status });
    if (run.id === state.selected) tr.classList.add("selected");
    const box = el("input", { type: "checkbox" });
    box.checked = state.overlay.has(run.id);
    box.addEventListener("click", ev => {
      ev.stopPropagation(); state.touched = true;
      if (box.checked) state.overlay.add(run.id); else state.overlay.delete(run.id);
      seen.clear(); poll();
    });
    const cells = [box, el("span", { class: "status " + run.status, title: run.reason || "" }, run.status),
      run.path, run.seed ?? "–", run.method ?? "–", run.islands ?? "–", si(run.individuals),
      si(run.individuals_per_second), num(run.best_fitness), num(run.select_fitness), num(run.final_fitness),
      run.stopped_by || run.reason || ""];
    cells.forEach((c, i) => {
      const td = el("td", { class: i === 2 || i === 11 ? "left" : "" });
      if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
      tr.appendChild(td);
    });
    tr.addEventListener("click", () => { state.selected = run.id; state.lastDetail = 0; seen.clear(); poll(); });
    return tr;
  });
  body.replaceChildren(...rows);
  renderExperiments(data.experiments || []);
}

function renderExperiments(list) {
  document.getElementById("experiments-section").hidden = list.length === 0;
  const body = document.querySelector("#experiments tbody");
  const rows = [];
  for (const e of list) {
    if (e.error) { const tr = el("tr"); tr.appendChild(el("td", { class: "left" }, e.path)); tr.appendChild(el("td", { colspan: 7, class: "left" }, e.error)); rows.push(tr); continue; }
    for (const m of e.methods) {
      const tr = el("tr");
      const ci = m.ci95 ? ` (${(100 * m.ci95[0]).toFixed(0)}–${(100 * m.ci95[1]).toFixed(0)}%)` : "";
      [e.name + (e.complete ? "" : " (incomplete)"), m.method, m.runs, m.successes,
       m.success_rate === null || m.success_rate === undefined ? "–" : (100 * m.success_rate).toFixed(0) + "%" + ci,
       m.median_seconds_to_success === null ? "–" : num(m.median_seconds_to_success, 1), si(m.median_individuals_to_success),
       m.successes_per_million_individuals === null ? "–" : num(m.successes_per_million_individuals, 3)]
        .forEach((c, i) => tr.appendChild(el("td", { class: i < 2 ? "left" : "" }, String(c ?? "–"))));
      rows.push(tr);
    }
  }
  body.replaceChildren(...rows);
}

function renderDetail(d) {
  document.getElementById("run").hidden = false;
  document.getElementById("run-title").textContent = d.info.path + " — " + d.info.name;
  const status = document.getElementById("run-status");
  status.replaceChildren(el("span", { class: "status " + d.info.status }, d.info.status),
    document.createTextNode(" " + (d.info.reason || "") + (d.summary_error ? " — " + d.summary_error : "")));
  const best = d.best;
  const math = document.getElementById("math");
  document.getElementById("best-source").textContent = best && best.source ? "(" + best.source + ")" : "";
  if (!best || best.error) {
    math.replaceChildren(el("p", { class: "dim" }, best ? best.error : "no program yet"));
    document.getElementById("pruned").textContent = "";
  } else {
    const lines = best.math.lines.map(line => {
      const div = el("div", { class: "line" });
      div.appendChild(el("span", { class: "section" }, line.section));
      const box = el("span", { class: "mathml" });
      if (line.mathml) box.innerHTML = line.mathml;  // produced by latex2mathml on the server
      else box.textContent = line.latex;
      div.appendChild(box);
      return div;
    });
    math.replaceChildren(...(lines.length ? lines : [el("pre", {}, best.math.text)]));
    document.getElementById("pruned").textContent = best.pruned;
  }
  const hof = document.querySelector("#hof tbody");
  hof.replaceChildren(...d.hall_of_fame.map(h => {
    const tr = el("tr");
    [h.rank, num(h.fitness, 6), h.size, h.pruned_size].forEach(c => tr.appendChild(el("td", {}, String(c))));
    const td = el("td", { class: "left" }); const det = el("details"); det.appendChild(el("summary", {}, "show"));
    det.appendChild(el("pre", {}, h.pruned)); td.appendChild(det); tr.appendChild(td);
    return tr;
  }));
  const paretoBox = document.getElementById("pareto-box");
  paretoBox.hidden = d.pareto_front.length === 0;
  if (d.pareto_front.length) {
    lineChart(document.getElementById("pareto"), [{ name: "front: fitness vs pruned size", points: d.pareto_front.map(p => [p.size, p.fitness]) }],
      { scatter: true, xlabel: "pruned size (instructions)", width: 420 });
  }
  const meta = d.metadata || {};
  const rows = [];
  const add = (k, v) => { const tr = el("tr"); tr.appendChild(el("th", { class: "left" }, k)); tr.appendChild(el("td", { class: "left" }, String(v))); rows.push(tr); };
  if (meta.evolve_version) {
    add("evolve", meta.evolve_version + (meta.git ? ` (git ${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ", modified" : ""})` : ""));
    add("Python", meta.python);
    for (const [k, v] of Object.entries(meta.packages || {})) add(k, v ?? "–");
    add("CPU", `${meta.cpu_model} (${meta.usable_cores} of ${meta.cpu_count} cores)`);
    add("command line", (meta.command_line || []).join(" "));
  } else add("metadata", d.summary ? "none recorded (an older run)" : "written at the end of the run");
  document.querySelector("#metadata tbody").replaceChildren(...rows);
}

function renderProgress(progress) {
  const overlay = [];
  for (const id of state.overlay) {
    const p = progress[id]; if (!p) continue;
    overlay.push({ name: id, points: p.rows.map(r => [r.individuals, r.best_fitness]) });
  }
  lineChart(document.getElementById("overlay"), overlay, { xlabel: "individuals", width: 900 });
  const sel = progress[state.selected];
  if (sel) {
    lineChart(document.getElementById("progress"), [
      { name: "best", points: sel.rows.map(r => [r.individuals, r.best_fitness]) },
      { name: "mean", points: sel.rows.map(r => [r.individuals, r.mean_fitness]) },
    ], { xlabel: "individuals", y01: false });
    const islands = Object.entries(sel.islands || {});
    document.getElementById("islands-box").hidden = islands.length === 0;
    if (islands.length) {
      lineChart(document.getElementById("islands"), islands.map(([k, rows]) => ({ name: "island " + k, points: rows.map(r => [r.individuals, r.best_fitness]) })),
        { xlabel: "individuals (all islands)", width: 460 });
    }
  }
}

// ----------------------------------------------------------------------------- polling
let busy = false;
async function poll() {
  if (busy) return; busy = true;
  try {
    const fresh = await getJSON("/api/runs", "runs");
    if (fresh) { state.runs = fresh; renderRuns(fresh); }
    const data = state.runs;
    if (!data) return;
    const ids = new Set(state.overlay);
    if (state.selected) ids.add(state.selected);
    const known = new Set(data.runs.map(r => r.id));
    const wanted = [...ids].filter(id => known.has(id)).slice(0, 16);
    if (wanted.length) {
      const query = wanted.map(id => "id=" + encodeURIComponent(id)).join("&");
      const progress = await getJSON("/api/progress?" + query, "progress");
      if (progress) renderProgress(progress);
    } else if (seen.get("progress") !== "none") { seen.set("progress", "none"); renderProgress({}); }
    const now = Date.now();
    if (state.selected && known.has(state.selected) && now - state.lastDetail > DETAIL_MS) {
      state.lastDetail = now;
      const detail = await getJSON("/api/run?id=" + encodeURIComponent(state.selected), "detail");
      if (detail) renderDetail(detail);
    }
    state.polls += 1;
    const up = document.getElementById("updated");
    up.textContent = "updated " + new Date().toLocaleTimeString();
    up.dataset.polls = String(state.polls);
  } catch (err) {
    document.getElementById("updated").textContent = "error: " + err.message;
  } finally { busy = false; }
}
poll();
setInterval(poll, POLL_MS);
