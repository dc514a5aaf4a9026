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
    }),
    curve($("#pr-chart"), {
      x: order.map((i) => pr.Recall[i]), y: order.map((i) => pr.Precision[i]), xLabel: "recall", yLabel: "precision",
      marker: () => [state.point.recall, state.point.tp + state.point.fp ? state.point.precision : NaN],
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
  $("#apply-policy").textContent = `Policy: ${policyText(state.policy)}`;
  $("#apply-dialog").showModal();
}

async function apply() {
  const body = state.policy.Policy === "MANUAL" ? { Policy: "MANUAL", Value: Number(state.threshold.toFixed(6)) } : state.policy;
  try {
    const reply = await call("PUT", modelPath("/threshold"), body);
    toast(`Threshold ${reply.Threshold.toFixed(4)} applied: recall ${pct(reply.Performance.Recall)}, precision ${pct(reply.Performance.Precision)}.`);
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
