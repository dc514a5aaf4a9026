// A model version: metrics, ROC / PR / histogram, the threshold slider computed in the browser from per-image test
// scores, targets that move it, Apply through UpdateModelThreshold, the history, and per-image results worst-first.
import { call, get } from "./api.js";
import { curve, histogram } from "./charts.js";
import { confusion, thresholdFor, wrongness } from "./operating.js";
import { $, consolePath, el, empty, num, pct, projectPath, showError, statusBadge, toast, when } from "./ui.js";

const version = $("#model-head").dataset.version;
const modelPath = (suffix = "") => projectPath(`/models/${version}${suffix}`);
const RESULTS_PAGE = 36;

const state = {
  images: [],
  threshold: 0.5,
  saved: null, // the evaluation as the service has it
  policy: { Policy: "MANUAL" }, // what Apply sends: the target last used, or MANUAL after a slider move
  charts: [],
  shown: RESULTS_PAGE,
};

function figure(label, value, title) {
  return el("div", { class: "figure", title }, el("span", { class: "value", text: value }), el("span", { class: "label", text: label }));
}

function renderMetrics(evaluation) {
  const m = evaluation.Metrics;
  $("#metrics").replaceChildren(
    figure("F1", pct(evaluation.Performance.F1Score), "at the threshold in use"),
    figure("precision", pct(evaluation.Performance.Precision)),
    figure("recall", pct(evaluation.Performance.Recall)),
    figure("image AUROC", num(m.ImageAUROC)),
    figure("average precision", num(m.AveragePrecision)),
    figure("precision at recall 1", pct(m.PrecisionAtFullRecall)),
    figure("pixel AUROC", num(m.PixelAUROC)),
    figure("pixel AUPRO", num(m.PixelAUPRO)));
  const intervals = evaluation.Intervals;
  const range = (name, rate) => `${name} ${pct(rate.Estimate)} (${pct(rate.Lower)}–${pct(rate.Upper)}, ${rate.Successes}/${rate.Trials})`;
  $("#intervals").textContent = intervals
    ? `${pct(intervals.ConfidenceLevel)} intervals at the threshold in use: ${range("precision", intervals.Precision)} · ${range("recall", intervals.Recall)} · ${range("false-positive rate", intervals.FalsePositiveRate)}`
    : "";
}

// The production estimate from random review audits (DescribeReviewStatistics), beside the test-set figures.
async function renderProduction() {
  const target = $("#production");
  let stats;
  try {
    stats = await get(modelPath("/reviewstatistics"));
  } catch {
    return; // no review statistics for this model: nothing to show
  }
  if (!stats.Precision && !stats.Recall) {
    if (!stats.Routed) return;
    target.replaceChildren(el("h2", { text: "In production" }), el("p", { class: "muted", text: `${stats.Routed} detections routed to review; no completed random audits yet, so no production estimate.` }));
    target.hidden = false;
    return;
  }
  const estimate = (label, value) => el("div", { class: "figure", id: `production-${label.split(" ")[1]}` },
    el("span", { class: "value", text: value ? pct(value.Estimate) : "–" }),
    el("span", { class: "label", text: label }),
    el("span", { class: "range", text: value ? `${pct(value.Low)}–${pct(value.High)} · ${value.Successes}/${value.Trials}` : "no audits" }));
  target.replaceChildren(
    el("div", { class: "section-head" }, el("h2", { text: "In production" }),
      el("a", { href: consolePath("/review"), text: "Review queue" })),
    el("p", { class: "muted", text: `Estimated from ${stats.Audits.Completed} random review audits (${pct(stats.ConfidenceLevel)} Wilson intervals), beside the test-set figures below.` }),
    el("div", { class: "metrics" },
      estimate("production precision", stats.Precision), estimate("production recall", stats.Recall),
      figure("reviewer agreement", pct(stats.AgreementRate), "over every completed review task")));
  target.hidden = false;
}

function policyText(policy) {
  if (!policy || !policy.Policy) return "F1-optimal threshold from training";
  const name = policy.Policy.replace("TARGET_", "target ").replace("_", " ").toLowerCase();
  return policy.Value === undefined ? name : `${name} ${policy.Value}`;
}

function update() {
  const point = confusion(state.images, state.threshold);
  state.point = point;
  $("#threshold-value").textContent = state.threshold.toFixed(3);
  $("#threshold").value = String(Math.min(1, state.threshold));
  $("#live-metrics").replaceChildren(
    figure("precision", pct(point.precision)),
    figure("recall", pct(point.recall)),
    figure("F1", pct(point.f1)),
    figure("false-positive rate", pct(point.fpr)));
  for (const [key, value] of Object.entries({ tp: point.tp, fn: point.fn, fp: point.fp, tn: point.tn })) {
    $(`#cm-${key}`).replaceChildren(String(value), el("small", { text: { tp: "true pos.", fn: "false neg.", fp: "false pos.", tn: "true neg." }[key] }));
  }
  for (const chart of state.charts) chart.redraw();
}

function renderCharts(curves) {
  const roc = curves.Roc;
  const pr = curves.PrecisionRecall;
  const order = pr.Recall.map((_, i) => i).reverse();
  state.charts = [
    curve($("#roc-chart"), {
      x: roc.FalsePositiveRate, y: roc.TruePositiveRate, xLabel: "false-positive rate", yLabel: "true-positive rate",
      diagonal: true, marker: () => [state.point.fpr, state.point.recall],
      band: roc.TruePositiveRateLower ? { lower: roc.TruePositiveRateLower, upper: roc.TruePositiveRateUpper } : null,
    }),
    curve($("#pr-chart"), {
      x: order.map((i) => pr.Recall[i]), y: order.map((i) => pr.Precision[i]), xLabel: "recall", yLabel: "precision",
      marker: () => [state.point.recall, state.point.tp + state.point.fp ? state.point.precision : NaN],
      band: pr.PrecisionLower ? { lower: order.map((i) => pr.PrecisionLower[i]), upper: order.map((i) => pr.PrecisionUpper[i]) } : null,
    }),
    histogram($("#histogram-chart"), {
      normal: state.images.filter((i) => i.Label === "normal").map((i) => i.Score),
      anomaly: state.images.filter((i) => i.Label === "anomaly").map((i) => i.Score),
      threshold: () => state.threshold,
    }),
  ];
}

function renderResults() {
  const threshold = state.threshold;
  const ranked = [...state.images].sort((a, b) => wrongness(b, threshold) - wrongness(a, threshold));
  const wrong = ranked.filter((image) => (image.Score >= threshold ? "anomaly" : "normal") !== image.Label).length;
  $("#results-summary").textContent = `${wrong} of ${ranked.length} misclassified at ${threshold.toFixed(3)}`;
  $("#results").replaceChildren(...ranked.slice(0, state.shown).map((image) => {
    const predicted = image.Score >= threshold ? "anomaly" : "normal";
    const misclassified = predicted !== image.Label;
    const name = image.SourceRef.split("/").pop();
    return el("figure", { class: `tile${misclassified ? " wrong" : ""}`, "data-misclassified": misclassified },
      el("a", { class: "tile-image", href: `${consolePath("/image")}?ref=${encodeURIComponent(image.SourceRef)}&size=full`, target: "_blank", "aria-label": `Open ${name}` },
        el("img", { src: `${consolePath("/image")}?ref=${encodeURIComponent(image.SourceRef)}&size=thumb`, alt: name, width: 160, height: 160 }),
        el("img", { class: "heat", src: `${consolePath(`/models/${version}/heatmap`)}?ref=${encodeURIComponent(image.SourceRef)}`, alt: `Heatmap of ${name}`, width: 160, height: 160 }),
        misclassified ? el("span", { class: "flag", text: `judged ${predicted}` }) : null),
      el("figcaption", {},
        el("span", { class: `chip ${image.Label === "anomaly" ? "bad" : "good"}`, text: image.Label }),
        el("span", { class: "score", text: image.Score.toFixed(3) })));
  }));
  $("#results-more").hidden = state.shown >= ranked.length;
}

async function renderHistory() {
  const target = $("#history");
  const changes = [];
  let token;
  do {
    const page = await get(modelPath(`/threshold/history${token ? `?nextToken=${encodeURIComponent(token)}` : ""}`));
    changes.push(...page.Changes);
    token = page.NextToken;
  } while (token);
  if (!changes.length) {
    target.replaceChildren(empty("No changes yet", "The threshold is the F1-optimal one chosen at training (0.5)."));
    return;
  }
  target.replaceChildren(el("table", { class: "table" },
    el("thead", {}, el("tr", {}, ...["When", "Who", "Policy", "Old", "New"].map((text) => el("th", { text, class: ["Old", "New"].includes(text) ? "num" : undefined })))),
    el("tbody", {}, changes.reverse().map((change) => el("tr", {},
      el("td", { text: when(change.ChangedAt) }),
      el("td", { text: change.ChangedBy }),
      el("td", { text: policyText(change.Policy) }),
      el("td", { class: "num", text: num(change.OldThreshold, 4) }),
      el("td", { class: "num", text: num(change.NewThreshold, 4) }))))));
}

function setTarget(button) {
  const input = $(`#${button.dataset.input}`);
  const value = Number(input.value);
  if (input.value === "" || Number.isNaN(value)) {
    toast("Enter a target between 0 and 1 first.", "bad");
    input.focus();
    return;
  }
  try {
    state.threshold = thresholdFor(button.dataset.policy, value, state.images);
    state.policy = { Policy: button.dataset.policy, Value: value };
    update();
    renderResults();
  } catch (error) {
    toast(error.message, "bad");
  }
}

function confirmApply() {
  const saved = state.saved;
  const old = { threshold: saved.Threshold, precision: saved.Performance.Precision, recall: saved.Performance.Recall, f1: saved.Performance.F1Score, fpr: saved.FalsePositiveRate };
  const next = state.point;
  const row = (label, a, b, format) => el("tr", {}, el("td", { text: label }), el("td", { text: format(a) }), el("td", { text: format(b) }));
  $("#apply-compare").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { text: "" }), el("th", { text: "now" }), el("th", { text: "new" }))),
    el("tbody", {},
      row("threshold", old.threshold, next.threshold, (v) => num(v, 4)),
      row("precision", old.precision, next.precision, pct),
      row("recall", old.recall, next.recall, pct),
      row("F1", old.f1, next.f1, pct),
      row("false-positive rate", old.fpr, next.fpr, pct)));
  const confidence = appliedConfidence();
  $("#apply-policy").textContent = `Policy: ${policyText(state.policy)}${confidence ? `, at ${pct(confidence)} confidence: the service picks the threshold whose bound meets the target, which can differ from the slider's` : ""}`;
  $("#apply-dialog").showModal();
}

// The Confidence input, sent with target policies only (a manual threshold has no target to bound).
function appliedConfidence() {
  const text = $("#target-confidence").value.trim();
  return state.policy.Policy !== "MANUAL" && text !== "" ? Number(text) : null;
}

async function apply() {
  const confidence = appliedConfidence();
  const body = state.policy.Policy === "MANUAL" ? { Policy: "MANUAL", Value: Number(state.threshold.toFixed(6)) } : { ...state.policy };
  if (confidence !== null) body.Confidence = confidence;
  try {
    const reply = await call("PUT", modelPath("/threshold"), body);
    const bound = reply.Target?.Bound === undefined ? "" : ` (${reply.Target.BoundSide.toLowerCase()} bound ${pct(reply.Target.Bound)} at ${pct(reply.Target.Confidence)} confidence)`;
    toast(`Threshold ${reply.Threshold.toFixed(4)} applied: recall ${pct(reply.Performance.Recall)}, precision ${pct(reply.Performance.Precision)}${bound}.`);
    await loadEvaluation();
  } catch (error) {
    toast(`Not applied: ${error.message}`, "bad");
  }
}

async function loadEvaluation() {
  const evaluation = await get(modelPath("/evaluation"));
  state.saved = evaluation;
  state.images = evaluation.Images;
  state.threshold = evaluation.Threshold;
  state.policy = { Policy: "MANUAL" };
  $("#threshold-policy").textContent = `in use: ${evaluation.Threshold.toFixed(4)} (${policyText(evaluation.ThresholdPolicy)})`;
  renderMetrics(evaluation);
  update();
  renderResults();
  await renderHistory();
  return evaluation;
}

async function main() {
  const body = $("#model-body");
  try {
    const { ModelDescription: model } = await get(modelPath());
    $("#model-summary").replaceChildren(`${model.Algorithm} · created ${when(model.CreationTimestamp)} · `, statusBadge(model.Status));
    if (model.Status !== "TRAINING" && model.Status !== "TRAINING_FAILED") renderProduction();
    if (model.Status === "TRAINING") {
      body.replaceChildren(el("section", { class: "card" }, empty("Still training", "The evaluation appears here once training ends.",
        el("a", { class: "button primary", href: consolePath(`/training?version=${version}`), text: "Watch the training" }))));
      return;
    }
    if (model.Status === "TRAINING_FAILED") {
      body.replaceChildren(el("section", { class: "card" }, el("p", { class: "error", role: "alert", text: model.StatusMessage || "Training failed." })));
      return;
    }
    if (model.EvaluationEndTimestamp === undefined) {
      body.replaceChildren(el("section", { class: "card" }, empty("No evaluation", "This model was trained without a test dataset, so it has no test-set metrics or threshold tuning.")));
      return;
    }
    body.replaceChildren($("#evaluation-template").content.cloneNode(true));
    await loadEvaluation();
    renderCharts(await get(modelPath("/curves")));
    update();
    $("#threshold").addEventListener("input", (event) => {
      state.threshold = Number(event.target.value);
      state.policy = { Policy: "MANUAL" };
      update();
    });
    $("#threshold").addEventListener("change", renderResults);
    for (const button of document.querySelectorAll("#targets button[data-policy]")) button.addEventListener("click", () => setTarget(button));
    $("#apply").addEventListener("click", confirmApply);
    $("#apply-dialog").addEventListener("close", () => { if ($("#apply-dialog").returnValue === "apply") apply(); });
    $("#results-more").addEventListener("click", () => { state.shown += RESULTS_PAGE; renderResults(); });
    const heat = $("#show-heatmaps");
    const showHeat = () => $("#results").classList.toggle("no-heat", !heat.checked);
    heat.addEventListener("change", showHeat);
    document.addEventListener("keydown", (event) => {
      if (event.key.toLowerCase() !== "h" || event.target.closest("input, textarea, select")) return;
      heat.checked = !heat.checked;
      showHeat();
    });
  } catch (error) {
    showError(body, error);
  }
}

main();
