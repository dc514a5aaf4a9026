// Detections: the ListDetections log with filters and pages, and a chart of anomalous vs normal verdicts over time.
import { get, query } from "./api.js";
import { timeBars } from "./charts.js";
import { $, allModels, consolePath, el, empty, num, pct, projectPath, showError, when } from "./ui.js";

const PAGE_SIZE = 25;
const CHART_PAGES = 10; // the chart counts the newest 1,000 matching detections at most
const pages = { tokens: [undefined], index: 0 };
let chart;

function filters() {
  const iso = (value) => (value ? new Date(value).toISOString() : undefined);
  return {
    modelVersion: $("#filter-model").value || undefined,
    startTime: iso($("#filter-start").value),
    endTime: iso($("#filter-end").value),
    anomalousOnly: $("#filter-anomalous").checked ? "true" : undefined,
  };
}

async function renderPage() {
  const target = $("#detections");
  try {
    const page = await get(projectPath(`/detections${query({ ...filters(), maxResults: PAGE_SIZE, nextToken: pages.tokens[pages.index] })}`));
    pages.tokens[pages.index + 1] = page.NextToken;
    $("#detections-prev").disabled = pages.index === 0;
    $("#detections-next").disabled = !page.NextToken;
    $("#detections-page").textContent = page.Detections.length ? `Page ${pages.index + 1}` : "";
    if (!page.Detections.length) {
      target.replaceChildren(empty("No detections", "Nothing matches: host a model and send it images (the Hosting page has “try it”).",
        el("a", { class: "button", href: consolePath("/hosting"), text: "Go to hosting" })));
      return;
    }
    target.replaceChildren(el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ...["When", "Model", "Verdict", "Confidence", "Score", "Latency", "Caller", "Image"].map((text) => el("th", { text, class: text === "Caller" ? "wide" : undefined })))),
      el("tbody", {}, page.Detections.map((item) => el("tr", {},
        el("td", { text: when(item.DetectedAt) }),
        el("td", { text: item.ModelVersion }),
        el("td", {}, el("span", { class: `badge ${item.IsAnomalous ? "bad" : "good"}`, text: item.IsAnomalous ? "anomaly" : "normal" })),
        el("td", { class: "num", text: pct(item.Confidence) }),
        el("td", { class: "num", text: num(item.Score) }),
        el("td", { class: "num", text: `${num(item.LatencyMillis, 0)} ms` }),
        el("td", { class: "wide", text: item.Caller }),
        el("td", {}, item.Image ? el("a", { href: consolePath(`/detections/${item.DetectionId}/image`), target: "_blank", text: "view" }) : el("span", { class: "muted", text: "expired" })))))));
  } catch (error) {
    showError(target, error);
  }
}

function bucketSize(span) {
  for (const seconds of [60, 300, 900, 3600, 6 * 3600, 86400]) if (span / seconds <= 48) return seconds;
  return 7 * 86400;
}

async function renderChart() {
  const node = $("#timeline");
  const items = [];
  let token;
  let pagesRead = 0;
  try {
    do {
      const page = await get(projectPath(`/detections${query({ ...filters(), maxResults: 100, nextToken: token })}`));
      items.push(...page.Detections);
      token = page.NextToken;
      pagesRead += 1;
    } while (token && pagesRead < CHART_PAGES);
  } catch (error) {
    showError(node, error);
    return;
  }
  chart?.destroy();
  chart = null;
  if (!items.length) {
    node.replaceChildren(empty("Nothing to chart yet", "Anomalies over time appear here once the model answers requests."));
    $("#chart-note").textContent = "";
    return;
  }
  node.replaceChildren();
  const times = items.map((item) => item.DetectedAt);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const size = bucketSize(Math.max(60, last - first));
  const start = Math.floor(first / size) * size;
  const count = Math.floor((last - start) / size) + 1;
  const anomalous = new Array(count).fill(0);
  const normal = new Array(count).fill(0);
  for (const item of items) {
    const slot = Math.floor((item.DetectedAt - start) / size);
    if (item.IsAnomalous) anomalous[slot] += 1; else normal[slot] += 1;
  }
  const x = Array.from({ length: count }, (_, i) => start + i * size + size / 2);
  chart = timeBars(node, { times: x, anomalous, normal, step: size });
  const total = anomalous.reduce((a, b) => a + b, 0);
  $("#chart-note").textContent = `${total} anomalous of ${items.length}${token ? " (newest 1,000)" : ""} · ${size >= 3600 ? `${size / 3600} h` : `${size / 60} min`} bars`;
}

async function loadModels() {
  try {
    const models = await allModels(get);
    $("#filter-model").append(...models.map((model) => el("option", { value: model.ModelVersion, text: `Version ${model.ModelVersion}` })));
  } catch { /* the filter stays "all versions" */ }
}

function refresh() {
  pages.tokens = [undefined];
  pages.index = 0;
  renderPage();
  renderChart();
}

$("#detection-filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
$("#detections-prev").addEventListener("click", () => { pages.index -= 1; renderPage(); });
$("#detections-next").addEventListener("click", () => { pages.index += 1; renderPage(); });

loadModels();
refresh();
