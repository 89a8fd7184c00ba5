// The supervisors' page: polls /api/monitor, /api/hourly, /api/robots,
// /api/rankings, /api/alerts and /api/exclusive every few seconds and draws
// the tables and an inline SVG chart. No library, no network but this
// server.
"use strict";

const REFRESH_MS = 5000;
const params = new URLSearchParams(location.search);
const state = {
  day: params.get("day") || "",
  shop: params.get("shop") || "",
  by: params.get("by") === "robot" ? "robot" : "task",
  hours: params.get("hours") || "",
  group: params.get("group") || "", // the ranking's group; "": the whole shop
  prev: params.get("rank") === "prev", // the ranking of the previous day
  sort: params.get("sort") || "received_buyers", // the ranking's order: this metric's rank
};

const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// fmt shows a value as `cspulse report` does: "–" for no sample, rates in percent.
function fmt(kind, v) {
  if (v === null || v === undefined) return "–";
  switch (kind) {
    case "rate": return (100 * v).toFixed(2) + "%";
    case "seconds": return v.toFixed(1);
    case "yuan": return v.toFixed(2);
    case "count": return v.toFixed(0);
  }
  return String(v);
}

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function query(extra) {
  const q = new URLSearchParams();
  if (state.day) q.set("day", state.day);
  for (const k in extra) if (extra[k]) q.set(k, extra[k]);
  const s = q.toString();
  return s ? "?" + s : "";
}

function saveURL() {
  const q = new URLSearchParams();
  for (const k of ["day", "shop", "hours", "group"]) if (state[k]) q.set(k, state[k]);
  if (state.by !== "task") q.set("by", state.by);
  if (state.prev) q.set("rank", "prev");
  if (state.sort !== "received_buyers") q.set("sort", state.sort);
  const s = q.toString();
  history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
}

// headRow writes the key headings, then one per metric with its definition on hover.
function headRow(thead, keys, metrics) {
  const tr = el("tr");
  for (const k of keys) tr.appendChild(el("th", { class: "key" }, k));
  for (const m of metrics) tr.appendChild(el("th", { title: m.name + ": " + m.definition, "data-metric": m.name }, m.title));
  thead.replaceChildren(tr);
}

function metricCells(tr, metrics, values) {
  for (const m of metrics) {
    const v = values[m.name];
    const td = el("td", { "data-metric": m.name, "data-value": v === null || v === undefined ? "NULL" : String(v) }, fmt(m.kind, v));
    if (v === null || v === undefined) td.className = "null";
    tr.appendChild(td);
  }
}

function renderMonitor(data) {
  const t = $("monitor");
  headRow(t.tHead, ["shop", "local day"], data.metrics);
  const body = t.tBodies[0];
  body.replaceChildren();
  if (data.shops.length === 0) {
    const td = el("td", { colspan: String(data.metrics.length + 2), class: "empty key" }, "No figures for this day yet.");
    body.appendChild(el("tr")).appendChild(td);
  }
  for (const s of data.shops) {
    const tr = el("tr", { "data-shop": s.shop, title: s.zone });
    if (s.shop === state.shop) tr.className = "selected";
    tr.appendChild(el("td", { class: "key" }, s.shop));
    tr.appendChild(el("td", { class: "key" }, s.day));
    metricCells(tr, data.metrics, s.values);
    tr.addEventListener("click", () => { state.shop = s.shop; saveURL(); refresh(); });
    body.appendChild(tr);
  }
  $("monitor-title").firstChild.textContent = state.day ? "Day " + state.day + " per shop " : "Today per shop ";
  if (!state.shop && data.shops.length > 0) state.shop = data.shops[0].shop;
}

// renderChart draws buyer messages per local hour as bars and the
// 3-minute reply rate as a line (no point where nothing was measured).
function renderChart(data) {
  $("hourly-title").textContent = "— " + data.shop + ", " + data.day + " (" + data.zone + ")";
  const W = 560, H = 230, L = 40, R = 44, T = 10, B = 26;
  const w = W - L - R, h = H - T - B, slot = w / 24;
  const byHour = {};
  for (const r of data.hours) byHour[parseInt(r.hour, 10)] = r.values;
  let max = 0;
  for (const r of data.hours) max = Math.max(max, r.values.buyer_msgs || 0);
  const step = niceStep(max / 4);
  const top = Math.max(step * 4, step * Math.ceil(max / step));
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "buyer messages and 3-minute reply rate by hour" });
  for (let i = 0; i <= 4; i++) {
    const y = T + h - (h * i) / 4;
    s.appendChild(svg("line", { class: "grid", x1: L, x2: L + w, y1: y, y2: y }));
    s.appendChild(svg("text", { x: L - 4, y: y + 3, "text-anchor": "end" }, String(Math.round((top * i) / 4))));
    s.appendChild(svg("text", { x: L + w + 4, y: y + 3 }, 25 * i + "%"));
  }
  const byMetric = {};
  for (const m of data.metrics) byMetric[m.name] = m;
  let path = "", pen = false;
  for (let hr = 0; hr < 24; hr++) {
    const v = byHour[hr] || {};
    const x = L + hr * slot;
    const label = String(hr).padStart(2, "0") + ":00";
    if (v.buyer_msgs) {
      const bh = (h * v.buyer_msgs) / top;
      const bar = svg("rect", { class: "bar", x: x + slot * 0.15, y: T + h - bh, width: slot * 0.7, height: bh, "data-hour": label, "data-value": String(v.buyer_msgs) });
      bar.appendChild(svg("title", {}, `${label} ${byMetric.buyer_msgs.title}: ${fmt("count", v.buyer_msgs)}`));
      s.appendChild(bar);
    }
    const rate = v.reply_3min_rate;
    if (rate === null || rate === undefined) { pen = false; continue; }
    const cx = x + slot / 2, cy = T + h - h * rate;
    path += (pen ? " L" : " M") + cx.toFixed(1) + " " + cy.toFixed(1);
    pen = true;
    const dot = svg("circle", { class: "dot", cx: cx, cy: cy, r: 2.5, "data-hour": label, "data-value": String(rate) });
    dot.appendChild(svg("title", {}, `${label} ${byMetric.reply_3min_rate.title}: ${fmt("rate", rate)}`));
    s.appendChild(dot);
  }
  if (path) s.insertBefore(svg("path", { class: "line", d: path.trim() }), s.querySelector("circle"));
  s.appendChild(svg("line", { class: "axis", x1: L, x2: L + w, y1: T + h, y2: T + h }));
  for (let hr = 0; hr < 24; hr += 3) {
    s.appendChild(svg("text", { x: L + hr * slot + slot / 2, y: H - 8, "text-anchor": "middle" }, String(hr).padStart(2, "0")));
  }
  if (data.hours.length === 0) s.appendChild(svg("text", { x: L + w / 2, y: T + h / 2, "text-anchor": "middle" }, "no buyer messages this day"));
  const legend = el("div", { class: "legend" });
  const msgs = el("span", { title: byMetric.buyer_msgs.definition }); msgs.innerHTML = '<i style="background:#93c5fd"></i>'; msgs.append(byMetric.buyer_msgs.title + " (left)");
  const rate = el("span", { title: byMetric.reply_3min_rate.definition }); rate.innerHTML = '<i style="background:#d97706"></i>'; rate.append(byMetric.reply_3min_rate.title + " rate (right)");
  legend.append(msgs, rate, el("span", {}, "  · local hours"));
  $("chart").replaceChildren(s, legend);
}

function niceStep(x) {
  if (x <= 1) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function renderRobots(data) {
  $("robots-title").textContent = "— " + data.shop + ", " + data.day + (data.hours ? ", " + data.hours : ", all hours");
  const t = $("robots");
  const keys = data.by === "robot" ? ["robot", "task"] : ["task"];
  headRow(t.tHead, keys, data.metrics);
  const body = t.tBodies[0];
  body.replaceChildren();
  if (data.rows.length === 0) {
    body.appendChild(el("tr")).appendChild(el("td", { colspan: String(data.metrics.length + keys.length), class: "empty key" }, "No robot calls."));
  }
  for (const r of data.rows) {
    const tr = el("tr", { "data-task": r.task });
    if (data.by === "robot") { tr.setAttribute("data-robot", r.robot); tr.appendChild(el("td", { class: "key" }, r.robot)); }
    tr.appendChild(el("td", { class: "key" }, r.task));
    metricCells(tr, data.metrics, r.values);
    body.appendChild(tr);
  }
}

function renderExclusive(data) {
  $("exclusive-title").textContent = "— " + data.shop + ", " + data.day;
  const t = $("exclusive");
  headRow(t.tHead, ["agent"], data.metrics);
  const body = t.tBodies[0];
  body.replaceChildren();
  if (data.rows.length === 0) {
    body.appendChild(el("tr")).appendChild(el("td", { colspan: String(data.metrics.length + 1), class: "empty key" }, "No exclusive customers followed up."));
  }
  for (const r of data.rows) {
    const tr = el("tr", { "data-agent": r.agent });
    tr.appendChild(el("td", { class: "key" }, r.agent));
    metricCells(tr, data.metrics, r.values);
    body.appendChild(tr);
  }
}

function setStatus(text, error) {
  const s = $("status");
  s.textContent = text;
  s.className = error ? "status error" : "status";
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const mon = await getJSON("/api/monitor" + query({}));
    renderMonitor(mon);
    if (state.shop) {
      const [hourly, robots, rankings, alerts, exclusive] = await Promise.all([
        getJSON("/api/hourly" + query({ shop: state.shop })),
        getJSON("/api/robots" + query({ shop: state.shop, by: state.by, hours: state.hours })),
        getJSON("/api/rankings" + query({ shop: state.shop, group: state.group, prev: state.prev ? "1" : "" })),
        getJSON("/api/alerts?shop=" + encodeURIComponent(state.shop)),
        getJSON("/api/exclusive" + query({ shop: state.shop })),
      ]);
      renderChart(hourly);
      renderRobots(robots);
      renderRankings(rankings);
      renderAlerts(alerts);
      renderExclusive(exclusive);
    } else {
      const none = "No shop to show: no figures for this day yet.";
      $("chart").replaceChildren(el("p", { class: "empty" }, none));
      $("robots").tHead.replaceChildren();
      $("robots").tBodies[0].replaceChildren(el("tr"));
      $("robots").tBodies[0].firstChild.appendChild(el("td", { class: "empty key" }, none));
      for (const id of ["rankings", "alerts", "exclusive"]) {
        $(id).tHead.replaceChildren();
        if ($(id).tFoot) $(id).tFoot.replaceChildren();
        $(id).tBodies[0].replaceChildren(el("tr"));
        $(id).tBodies[0].firstChild.appendChild(el("td", { class: "empty key" }, none));
      }
    }
    setStatus("updated " + new Date().toLocaleTimeString([], { hour12: false }) + " · every " + REFRESH_MS / 1000 + " s");
    document.body.setAttribute("data-loaded", "true");
  } catch (e) {
    setStatus("error: " + e.message, true);
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function hourOptions(sel, first, lo, hi) {
  sel.appendChild(el("option", { value: "" }, first));
  for (let h = lo; h <= hi; h++) sel.appendChild(el("option", { value: String(h).padStart(2, "0") + ":00" }, String(h).padStart(2, "0") + ":00"));
}

function init() {
  $("day").value = state.day;
  $("day").addEventListener("change", (e) => { state.day = e.target.value; saveURL(); refresh(); });
  $("today").addEventListener("click", () => { state.day = ""; $("day").value = ""; saveURL(); refresh(); });
  for (const r of document.querySelectorAll('input[name="robot-by"]')) {
    r.checked = r.value === state.by;
    r.addEventListener("change", (e) => { state.by = e.target.value; saveURL(); refresh(); });
  }
  const from = $("hours-from"), to = $("hours-to");
  hourOptions(from, "all day", 0, 23);
  hourOptions(to, "–", 1, 24);
  const [f, t] = state.hours.split("-");
  from.value = f || ""; to.value = t || "";
  const onHours = () => {
    state.hours = from.value && to.value && from.value !== to.value ? from.value + "-" + to.value : "";
    saveURL();
    refresh();
  };
  from.addEventListener("change", onHours);
  to.addEventListener("change", onHours);
  $("rank-group").addEventListener("change", (e) => { state.group = e.target.value; saveURL(); refresh(); });
  $("rank-today").addEventListener("click", () => { state.prev = false; saveURL(); refresh(); });
  $("rank-prev").addEventListener("click", () => { state.prev = true; saveURL(); refresh(); });
  refresh();
}

init();
