// uPlot charts for the console: line curves with a movable marker, score histograms with a threshold line,
// and bar series over time. Markers are drawn in a draw hook, so moving them is a redraw, not a rebuild.
import uPlot from "../vendor/uplot/uPlot.esm.js";

const BLUE = "#2563eb";
const RED = "#dc2626";
const GREEN = "#16a34a";
const GRID = { stroke: "#e2e8f0", width: 1 };
const AXIS = { stroke: "#64748b", grid: GRID, ticks: { stroke: "#e2e8f0" }, font: "12px system-ui" };

function size(node, height = 240) {
  return { width: Math.max(240, node.clientWidth), height };
}

function follow(node, chart, height) {
  new ResizeObserver(() => chart.setSize(size(node, height))).observe(node);
}

// A curve (x ascending) with a marker at marker() = [x, y] and, when given, its confidence band
// (band.lower / band.upper, one value per x) shaded around it; returns { redraw }.
export function curve(node, { x, y, xLabel, yLabel, marker, diagonal = false, band = null }) {
  const series = [{}, { label: yLabel, stroke: BLUE, width: 2, fill: band ? undefined : "rgba(37,99,235,.08)", points: { show: false } }];
  const data = [x, y];
  const bands = [];
  if (band) {
    const edge = { stroke: "rgba(37,99,235,.35)", width: 1, points: { show: false } };
    series.push({ label: `${yLabel} upper`, ...edge }, { label: `${yLabel} lower`, ...edge });
    data.push(band.upper, band.lower);
    bands.push({ series: [2, 3], fill: "rgba(37,99,235,.14)" });
  }
  if (diagonal) {
    series.push({ label: "chance", stroke: "#94a3b8", dash: [4, 4], width: 1, points: { show: false } });
    data.push(x);
  }
  const options = {
    ...size(node),
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1.02] } },
    axes: [{ ...AXIS, label: xLabel }, { ...AXIS, label: yLabel, size: 50 }],
    series,
    bands,
    hooks: {
      draw: [(u) => {
        const [mx, my] = marker();
        if (mx === undefined || Number.isNaN(my)) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = RED;
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.beginPath();
        ctx.arc(u.valToPos(mx, "x", true), u.valToPos(my, "y", true), 6 * devicePixelRatio, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
        ctx.restore();
      }],
    },
  };
  const chart = new uPlot(options, data, node);
  follow(node, chart);
  return { redraw: () => chart.redraw(false) };
}

// Normal and anomalous score histograms with a vertical threshold line at threshold().
export function histogram(node, { normal, anomaly, threshold, bins = 24 }) {
  const top = Math.max(1, ...normal, ...anomaly);
  const width = top / bins;
  const centres = Array.from({ length: bins }, (_, i) => (i + 0.5) * width);
  const count = (scores) => {
    const counts = new Array(bins).fill(0);
    for (const score of scores) counts[Math.min(bins - 1, Math.floor(score / width))] += 1;
    return counts;
  };
  const bars = uPlot.paths.bars({ size: [0.9, 40], gap: 1 });
  const options = {
    ...size(node),
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [0, top] }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [{ ...AXIS, label: "score" }, { ...AXIS, label: "images", size: 45 }],
    series: [
      {},
      { label: "normal", stroke: GREEN, fill: "rgba(22,163,74,.45)", paths: bars, points: { show: false } },
      { label: "anomaly", stroke: RED, fill: "rgba(220,38,38,.45)", paths: bars, points: { show: false } },
    ],
    hooks: {
      draw: [(u) => {
        const x = u.valToPos(threshold(), "x", true);
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#0f172a";
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      }],
    },
  };
  const chart = new uPlot(options, [centres, count(normal), count(anomaly)], node);
  follow(node, chart);
  return { redraw: () => chart.redraw(false) };
}

// Counts over time (x: epoch seconds), stacked as two bar series: anomalous and normal verdicts.
export function timeBars(node, { times, anomalous, normal, step }) {
  const bars = uPlot.paths.bars({ size: [0.8, 60], gap: 2 });
  const options = {
    ...size(node, 220),
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { range: () => [times[0] - step, times[times.length - 1] + step] },
      y: { range: (u, min, max) => [0, Math.max(1, max) * 1.15] },
    },
    axes: [{ ...AXIS }, { ...AXIS, label: "detections", size: 45 }],
    series: [
      {},
      { label: "anomalous", stroke: RED, fill: "rgba(220,38,38,.55)", paths: bars, points: { show: false } },
      { label: "normal", stroke: GREEN, fill: "rgba(22,163,74,.35)", paths: bars, points: { show: false } },
    ],
  };
  const chart = new uPlot(options, [times, anomalous, normal], node);
  follow(node, chart, 220);
  return chart;
}
