// Small SVG charts drawn with the DOM (no library, nothing from a CDN).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const NETWORK_COLORS = { all: "#1d2330", instagram: "#d6249f", vk: "#2787f5", telegram: "#29a9eb" };
// Networks differ by line pattern too, so a reader who cannot tell the colours apart can.
const NETWORK_DASHES = { all: "", instagram: "7 3", vk: "2 3", telegram: "9 3 2 3" };

// A day (YYYY-MM-DD) as the panel's language writes it short: "4 дек.", "Dec 4".
function fmtDay(day) {
  const d = new Date(day + "T00:00:00Z");
  return d.toLocaleDateString(I18n.locale(), { day: "numeric", month: "short", timeZone: "UTC" });
}

// A chart of days: labels along x, one line per series ({ name, color, dash, values }), except
// that with `bars` the first series (the whole program) is drawn as a bar a day, which reads
// better for counts. The legend gives each series' total over the period, or its daily average
// with `average` (a sum of daily active members would count a member once a day).
function lineChart(title, labels, series, average, bars) {
  const width = 560, height = 220, left = 44, right = 24, top = 10, bottom = 28;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => left + (labels.length <= 1 ? 0 : (i * (width - left - right)) / (labels.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  chart.append(svg("title", {}, title));
  for (const frac of [0, 0.5, 1]) {
    const value = Math.round(max * frac);
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), stroke: "#e5e8ee" }));
    chart.append(svg("text", { x: left - 6, y: y(value) + 3, "text-anchor": "end" }, fmtNum(value)));
  }
  const step = Math.max(1, Math.ceil(labels.length / 7));
  labels.forEach((label, i) => {
    if (i % step === 0 || i === labels.length - 1) {
      chart.append(svg("text", { x: x(i), y: height - 8, "text-anchor": "middle" }, fmtDay(label)));
    }
  });
  const slot = (width - left - right) / Math.max(1, labels.length);
  const barWidth = Math.max(1, Math.min(18, slot * 0.7));
  series.forEach((s, index) => {
    if (bars && index === 0) {
      s.values.forEach((v, i) => {
        const bar = svg("rect", { x: (x(i) - barWidth / 2).toFixed(1), y: y(v).toFixed(1), width: barWidth.toFixed(1),
          height: Math.max(0, y(0) - y(v)).toFixed(1), fill: "#c9ced8", class: "bar" });
        bar.append(svg("title", {}, `${s.name} ${fmtDay(labels[i])}: ${fmtNum(v)}`));
        chart.append(bar);
      });
      return;
    }
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2,
      "stroke-dasharray": s.dash || "none", class: "series" }));
    s.values.forEach((v, i) => {
      const dot = svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: s.color });
      dot.append(svg("title", {}, `${s.name} ${fmtDay(labels[i])}: ${fmtNum(v)}`));
      chart.append(dot);
    });
  });
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  const swatch = (s, index) => svg("svg", { width: 22, height: 10, class: "swatch" }, bars && index === 0
    ? svg("rect", { x: 6, y: 0, width: 10, height: 10, fill: "#c9ced8" })
    : svg("line", { x1: 0, x2: 22, y1: 5, y2: 5, stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash || "none" }));
  const total = (s) => s.values.reduce((a, v) => a + v, 0);
  const summary = (s) => average
    ? I18n.t("dash.average", { n: fmtNum(Math.round(total(s) / Math.max(1, s.values.length))) })
    : fmtNum(total(s));
  const legend = el("div", { class: "legend" }, series.map((s, index) =>
    el("span", { class: "legend-item" }, swatch(s, index), s.name + " · ", el("strong", {}, summary(s)))));
  return el("div", { class: "card" }, el("h2", {}, title), chart, legend);
}

// Every day from `from` to `to` (YYYY-MM-DD), inclusive.
function dayRange(from, to) {
  const out = [];
  const d = new Date(from + "T00:00:00Z");
  const end = new Date(to + "T00:00:00Z");
  while (d <= end && out.length < 400) {
    out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

// One chart of a daily_stats field per network.
function statsChart(title, dashboard, field) {
  const labels = dayRange(dashboard.from, dashboard.to);
  const byKey = new Map(dashboard.days.map((r) => [r.day + "/" + r.network, r]));
  const series = ["all", "instagram", "vk", "telegram"].map((network) => ({
    name: network === "all" ? I18n.t("network.all") : networkName(network),
    color: NETWORK_COLORS[network],
    dash: NETWORK_DASHES[network],
    values: labels.map((day) => {
      const row = byKey.get(day + "/" + network);
      return row ? row[field] : 0;
    }),
  }));
  // Members are counted, points summed: counts read as bars.
  const counts = field === "active_members" || field === "new_members";
  return lineChart(title, labels, series, field === "active_members", counts);
}
