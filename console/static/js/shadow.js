// Hosting page, "Shadow model" card: start a hosted version in the shadow of another, the comparison of their answers
// (agreement, disagreements both ways, score correlation, latency, would-be mistakes on reviewed detections), promote
// (again to roll back), send the disagreements to review, stop. The pair is read from DescribeModel's ShadowPair.
import { call, get } from "./api.js";
import { $, allModels, el, empty, num, pct, projectPath, showError, toast, when } from "./ui.js";

const figure = (label, value, id) => el("div", { class: "figure", id }, el("span", { class: "value", text: value }), el("span", { class: "label", text: label }));
const ms = (value) => (value === undefined || value === null ? "–" : `${num(value, 1)} ms`);

async function act(method, suffix, body, done) {
  try {
    const reply = await call(method, suffix, body);
    toast(done(reply));
  } catch (error) {
    toast(`Not done: ${error.message}`, "bad");
  }
  render();
}

function startForm(hosted) {
  const options = (selected) => hosted.map((model) => el("option", { value: model.ModelVersion, selected: model.ModelVersion === selected, text: `Version ${model.ModelVersion}` }));
  const candidate = el("select", { id: "shadow-candidate", "aria-label": "Candidate version (the shadow)" }, options(hosted[0].ModelVersion));
  const live = el("select", { id: "shadow-live", "aria-label": "Live version it shadows" }, options(hosted[1].ModelVersion));
  const sample = el("input", { id: "shadow-sample", type: "number", min: 1, max: 100, value: 100, "aria-label": "Percent of the live traffic to copy", style: "width:5rem" });
  const start = () => act("POST", projectPath(`/models/${candidate.value}/shadow`), { LiveModelVersion: live.value, SamplePercent: Number(sample.value) },
    (reply) => `Version ${reply.ShadowModel.ShadowModelVersion} runs in the shadow of version ${reply.ShadowModel.LiveModelVersion}.`);
  return el("div", { class: "row" },
    el("label", { class: "row-label" }, "Run ", candidate), el("label", { class: "row-label" }, " in the shadow of ", live),
    el("label", { class: "row-label" }, " copying ", sample, " % of requests"),
    el("button", { type: "button", class: "primary small", onclick: start, text: "Start shadow" }));
}

function comparison(found) {
  const pair = found.ShadowModel;
  const live = pair.LiveModelVersion;
  const path = projectPath(`/models/${live}/shadow`);
  const side = (name, item) => el("tr", {},
    el("td", { text: `${name}: version ${item.ModelVersion}` }), el("td", { text: String(item.Anomalous) }),
    el("td", { text: ms(item.LatencyP50Millis) }), el("td", { text: ms(item.LatencyP99Millis) }),
    el("td", { text: String(item.FalsePositives) }), el("td", { text: String(item.FalseNegatives) }));
  return [
    el("p", { class: "muted", id: "shadow-pair", text: `Version ${pair.ShadowModelVersion} runs in the shadow of live version ${live} since ${when(pair.StartedAt)}, on ${pair.SamplePercent}% of requests; ${pair.Promotions} promotion(s), ${pair.Dropped} shadow run(s) dropped under load.` }),
    el("div", { class: "metrics" },
      figure("Compared", String(found.Compared), "shadow-compared"), figure("Agreement", pct(found.AgreementRate), "shadow-agreement"),
      figure("Only live anomalous", String(found.Disagreements.LiveAnomalous)), figure("Only shadow anomalous", String(found.Disagreements.ShadowAnomalous)),
      figure("Score correlation", num(found.ScoreCorrelation)), figure("Reviewed", String(found.Reviewed))),
    el("table", { class: "table", "aria-label": "Each model of the pair" },
      el("thead", {}, el("tr", {}, ...["Model", "Anomalous", "Latency p50", "Latency p99", "False positives", "False negatives"].map((text) => el("th", { text })))),
      el("tbody", {}, side("Live", found.Live), side("Shadow", found.Shadow))),
    el("p", { class: "hint", text: "False positives and negatives count the compared detections a reviewer judged. Latency: the live request's service time; the shadow's time from its copy to its answer." }),
    found.DisagreementSamples.length ? el("table", { class: "table", "aria-label": "Newest disagreements" },
      el("thead", {}, el("tr", {}, ...["Detected", "Anomalous by", "Live score", "Shadow score", "Review task"].map((text) => el("th", { text })))),
      el("tbody", {}, found.DisagreementSamples.map((item) => el("tr", {},
        el("td", { text: when(item.DetectedAt) }), el("td", { text: item.Direction === "LIVE_ANOMALOUS" ? "live" : "shadow" }),
        el("td", { text: num(item.Live.Score) }), el("td", { text: num(item.Shadow.Score) }), el("td", { text: item.ReviewTaskId ?? "–" }))))) : null,
    el("div", { class: "row" },
      el("button", { type: "button", class: "primary small", onclick: () => act("POST", `${path}/promote`, undefined, (reply) => `Version ${reply.ShadowModel.LiveModelVersion} is live now; promote again to roll back.`), text: `Promote version ${pair.ShadowModelVersion}` }),
      el("button", { type: "button", class: "small", onclick: () => act("POST", `${path}/review`, {}, (reply) => `${reply.TaskIds.length} disagreement(s) sent to review.`), text: "Send disagreements to review" }),
      el("button", { type: "button", class: "danger ghost small", onclick: () => act("POST", `${path}/stop`, undefined, (reply) => `Shadow stopped; version ${reply.ShadowModel.ShadowModelVersion} is stopping.`), text: "Stop shadow" }),
      el("button", { type: "button", class: "ghost small", onclick: render, text: "Refresh" })),
  ];
}

async function render() {
  const target = $("#shadow");
  try {
    const listed = (await allModels(get)).filter((model) => model.Status === "HOSTED");
    const hosted = await Promise.all(listed.map(async (model) => (await get(projectPath(`/models/${model.ModelVersion}`))).ModelDescription));
    const paired = hosted.find((model) => model.ShadowPair);
    if (paired) {
      target.replaceChildren(...comparison(await get(projectPath(`/models/${paired.ShadowPair.LiveModelVersion}/shadow?maxDisagreements=10`))));
    } else if (hosted.length >= 2) {
      target.replaceChildren(startForm(hosted));
    } else {
      target.replaceChildren(empty("No shadow model", "Host two versions; then run the candidate in the shadow of the live one to compare them on real traffic."));
    }
  } catch (error) {
    showError(target, error);
  }
}

render();
