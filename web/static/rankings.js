// The rankings (/api/rankings) and recent alerts (/api/alerts) panes of the
// supervisors' page. Loaded before app.js, whose helpers (el, $, fmt,
// state, saveURL, refresh) these functions use when they are called.
"use strict";

// fmtMean shows a ranking's mean: a rate in percent, a count to two places
// (a mean of counts is rarely whole), as `cspulse report rankings` does.
function fmtMean(kind, v) {
  if (kind === "count" && v !== null && v !== undefined) return v.toFixed(2);
  return fmt(kind, v);
}

// fmtChange shows a rank change: ▲ up, ▼ down, = same, – no rank the day before.
function fmtChange(v) {
  if (v === null || v === undefined) return "–";
  if (v > 0) return "▲" + v;
  if (v < 0) return "▼" + -v;
  return "=";
}

// byRank orders rows by the metric's rank (1 first, no rank last), then
// by agent id: the order the table's ranks are defined in.
function byRank(metric) {
  return (a, b) => {
    const x = a.values[metric].rank, y = b.values[metric].rank;
    if ((x === null) !== (y === null)) return x === null ? 1 : -1;
    if (x !== y) return x - y;
    return a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0;
  };
}

function attrValue(v) {
  return v === null || v === undefined ? "NULL" : String(v);
}

function renderRankings(data) {
  const sel = $("rank-group");
  const groups = data.groups.slice();
  if (state.group && !groups.includes(state.group)) groups.push(state.group);
  sel.replaceChildren(el("option", { value: "" }, "whole shop"));
  for (const g of groups) sel.appendChild(el("option", { value: g }, "group " + g));
  sel.value = state.group;
  // With a day picked above, the first button is that day, not the day so far.
  $("rank-today").textContent = !data.today || data.today === data.latest ? "day so far" : data.today;
  $("rank-today").className = state.prev ? "" : "on";
  $("rank-prev").className = state.prev ? "on" : "";
  const scope = data.group ? "group " + data.group : "whole shop";
  $("rankings-title").textContent = data.day ? "— " + data.shop + ", " + scope + ", " + data.day + (data.day === data.latest ? " (so far)" : " (final)") : "— " + data.shop;

  const t = $("rankings");
  if (!data.metrics.some((m) => m.name === state.sort)) state.sort = data.metrics[0].name;
  const head = el("tr");
  head.appendChild(el("th", { class: "key" }, "agent"));
  for (const m of data.metrics) {
    const th = el("th", { title: m.name + ": " + m.definition + " — click to rank by it", "data-metric": m.name, class: "sort" + (m.name === state.sort ? " sorted" : "") }, m.title);
    th.addEventListener("click", () => { state.sort = m.name; saveURL(); renderRankings(data); });
    head.append(th, el("th", { title: data.terms.rank, class: "rank" }, "#"), el("th", { title: data.terms.rank_change, class: "chg" }, "±"));
  }
  t.tHead.replaceChildren(head);
  const body = t.tBodies[0];
  body.replaceChildren();
  if (data.rows.length === 0) {
    const why = data.today ? "No agent with a reception on " + data.day + (data.group ? " in group " + data.group : "") + "." : "No ranking for this shop yet.";
    body.appendChild(el("tr")).appendChild(el("td", { colspan: String(1 + 3 * data.metrics.length), class: "empty key" }, why));
  }
  for (const r of data.rows.slice().sort(byRank(state.sort))) {
    const tr = el("tr", { "data-agent": r.agent });
    tr.appendChild(el("td", { class: "key" }, r.agent));
    for (const m of data.metrics) {
      const c = r.values[m.name];
      const v = el("td", { "data-metric": m.name, "data-value": attrValue(c.value) }, fmt(m.kind, c.value));
      const rk = el("td", { class: "rank", "data-rank": attrValue(c.rank) }, c.rank === null ? "–" : String(c.rank));
      const ch = el("td", { class: "chg", "data-change": attrValue(c.change) }, fmtChange(c.change));
      if (c.value === null) v.className = "null";
      if (c.change > 0) ch.className = "chg up";
      if (c.change < 0) ch.className = "chg down";
      tr.append(v, rk, ch);
    }
    body.appendChild(tr);
  }
  const foot = el("tr", { class: "mean" });
  foot.appendChild(el("td", { class: "key", title: data.terms.mean }, "mean"));
  for (const m of data.metrics) {
    const v = data.means[m.name];
    foot.appendChild(el("td", { "data-mean": m.name, "data-value": attrValue(v), title: m.title + " " + data.terms.mean }, data.rows.length ? fmtMean(m.kind, v) : ""));
    foot.append(el("td"), el("td"));
  }
  t.tFoot.replaceChildren(foot);
}

const DIRECTIONS = { ">=": "≥", ">": ">", "<=": "≤", "<": "<" };

function renderAlerts(data) {
  $("alerts-title").textContent = "— " + data.shop + ", latest " + data.limit + ", times in " + data.zone;
  const t = $("alerts");
  const head = el("tr");
  head.append(el("th", { class: "key", title: "evaluated at: the end of the local hour the rule was evaluated for (" + data.zone + ")" }, "time"),
    el("th", { class: "key", title: "shop, group or agent the rule watches" }, "scope"),
    el("th", { class: "key", title: "the metric, over the rule's window (rolling days or the week to date): hover for the rule" }, "metric"),
    el("th", { title: "the metric's value over the window" }, "value"),
    el("th", { title: "the healthy side of the threshold" }, "threshold"),
    el("th", { class: "key", title: "breach: the value crossed to the wrong side; recovered: back on the healthy side" }, "state"));
  t.tHead.replaceChildren(head);
  const body = t.tBodies[0];
  body.replaceChildren();
  if (data.alerts.length === 0) {
    body.appendChild(el("tr")).appendChild(el("td", { colspan: "6", class: "empty key" }, "No alert for this shop."));
  }
  for (const a of data.alerts) {
    const tr = el("tr", { "data-alert": a.alert_id, class: a.state });
    // The year is in the hover text: the pane is narrow.
    tr.appendChild(el("td", { class: "key", "data-time": a.local, title: a.local + " " + data.zone }, a.local.slice(5)));
    // A shop's own rule needs no id: the pane is the shop's. The group ''
    // (figures outside any group) is written as `cspulse report` does.
    tr.appendChild(el("td", { class: "key", "data-scope-id": a.scope_id }, a.scope === "shop" ? "shop" : a.scope + " " + (a.scope_id || "''")));
    const about = "rule " + a.rule + ", window " + a.window + (a.definition ? " — " + a.metric + ": " + a.definition : "");
    tr.appendChild(el("td", { class: "key", "data-window": a.window, title: about }, a.title));
    tr.appendChild(el("td", { "data-value": String(a.value), title: a.numerator + " / " + a.denominator }, fmt(a.kind, a.value)));
    tr.appendChild(el("td", { "data-threshold": String(a.threshold), "data-direction": a.direction }, (DIRECTIONS[a.direction] || a.direction) + " " + fmt(a.kind, a.threshold)));
    tr.appendChild(el("td", { class: "key state" }, a.state));
    body.appendChild(tr);
  }
}
