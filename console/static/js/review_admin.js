// Admins on the review page: the project's review policy (DescribeReviewPolicy / PutReviewPolicy) and a model
// version's review statistics, with the production precision and recall estimated from the random audits.
import { call, get } from "./api.js";
import { $, allModels, el, empty, num, pct, projectPath, showError, toast, when } from "./ui.js";

const FIELDS = {
  ConfidenceBelow: "#policy-confidence", SamplingPercent: "#policy-sampling", HourlyCap: "#policy-hourly",
  DailyCap: "#policy-daily", RequiredReviews: "#policy-required", LeaseSeconds: "#policy-lease",
  TaskTimeToLiveSeconds: "#policy-ttl",
};

async function loadPolicy() {
  const { ReviewPolicy: policy } = await get(projectPath("/reviewpolicy"));
  for (const [name, selector] of Object.entries(FIELDS)) $(selector).value = policy[name] ?? "";
  $("#policy-band-low").value = policy.ScoreBand?.Low ?? "";
  $("#policy-band-high").value = policy.ScoreBand?.High ?? "";
  $("#policy-anomalous").checked = policy.AllAnomalous;
  $("#policy-paused").checked = policy.Paused;
  $("#policy-updated").textContent = policy.UpdatedAt ? `updated ${when(policy.UpdatedAt)}${policy.UpdatedBy ? ` by ${policy.UpdatedBy}` : ""}` : "no policy yet: nothing is routed";
}

async function savePolicy(event) {
  event.preventDefault();
  const body = { AllAnomalous: $("#policy-anomalous").checked, Paused: $("#policy-paused").checked };
  for (const [name, selector] of Object.entries(FIELDS)) {
    const value = $(selector).value.trim();
    if (value !== "") body[name] = Number(value);
  }
  const low = $("#policy-band-low").value.trim(), high = $("#policy-band-high").value.trim();
  if (low !== "" || high !== "") body.ScoreBand = { Low: Number(low || 0), High: Number(high || 1) };
  try {
    await call("PUT", projectPath("/reviewpolicy"), body);
    toast("Review policy saved; it applies from the next detection.");
    await loadPolicy();
  } catch (error) {
    toast(`Policy not saved: ${error.message}`, "bad");
  }
}

const interval = (value) => (value ? `${pct(value.Estimate)} (${pct(value.Low)}–${pct(value.High)}, ${value.Successes}/${value.Trials})` : "no audits yet");

async function loadStatistics() {
  const target = $("#stats");
  const version = $("#stats-model").value;
  if (!version) {
    target.replaceChildren(empty("No trained model yet", "Statistics appear once a model routes detections."));
    return;
  }
  try {
    const stats = await get(projectPath(`/models/${version}/reviewstatistics`));
    const figure = (label, value, id) => el("div", { class: "figure", id }, el("span", { class: "value", text: value }), el("span", { class: "label", text: label }));
    target.replaceChildren(
      el("div", { class: "metrics" },
        figure("Routed", String(stats.Routed)), figure("Pending", String(stats.Pending)), figure("Completed", String(stats.Completed)),
        figure("Agreement", pct(stats.AgreementRate)), figure("False positives", String(stats.FalsePositives)),
        figure("False negatives", String(stats.FalseNegatives)), figure("Median review", stats.MedianReviewSeconds == null ? "–" : `${num(stats.MedianReviewSeconds, 1)} s`)),
      el("table", { class: "compare", "aria-label": "Production estimate from audits" },
        el("thead", {}, el("tr", {}, el("th", { text: "From random audits" }), el("th", { text: `Estimate (${pct(stats.ConfidenceLevel)} interval, audits)` }))),
        el("tbody", {},
          el("tr", {}, el("td", { text: "Production precision" }), el("td", { id: "stats-precision", text: interval(stats.Precision) })),
          el("tr", {}, el("td", { text: "Production recall" }), el("td", { id: "stats-recall", text: interval(stats.Recall) })))),
      el("p", { class: "hint", text: `${stats.Audits.Completed} completed audits. Agreement and false positives/negatives count every completed task, doubtful ones included.` }));
  } catch (error) {
    showError(target, error);
  }
}

async function start() {
  $("#policy-form").addEventListener("submit", savePolicy);
  $("#stats-model").addEventListener("change", loadStatistics);
  try {
    await loadPolicy();
  } catch (error) {
    showError($("#policy-updated"), error);
  }
  const models = (await allModels(get)).filter((model) => !model.Status.startsWith("TRAINING"));
  $("#stats-model").replaceChildren(...models.map((model) => el("option", { value: model.ModelVersion, text: `Version ${model.ModelVersion}` })));
  await loadStatistics();
}

start();
