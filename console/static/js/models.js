// Models: the project's versions with F1 / precision / recall; delete a version.
import { call, get } from "./api.js";
import { $, allModels, consolePath, el, empty, pct, projectPath, showError, statusBadge, toast, when } from "./ui.js";

async function remove(version) {
  if (!window.confirm(`Delete model version ${version}? Its artefacts and detections log go with it.`)) return;
  try {
    await call("DELETE", projectPath(`/models/${version}`));
    toast(`Model version ${version} deleted.`);
    render();
  } catch (error) {
    toast(error.message, "bad");
  }
}

async function render() {
  const target = $("#models");
  try {
    const models = await allModels(get);
    if (!models.length) {
      target.replaceChildren(empty("No models yet", "Train one: it takes a minute on a small dataset.",
        el("a", { class: "button primary", href: consolePath("/training"), text: "Go to training" })));
      return;
    }
    const cell = (value) => el("td", { class: "num", text: value === undefined ? "–" : pct(value) });
    target.replaceChildren(el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ...["Version", "Algorithm", "Status", "F1", "Precision", "Recall", "Created", ""].map((text) => el("th", { text, class: ["F1", "Precision", "Recall"].includes(text) ? "num" : undefined })))),
      el("tbody", {}, models.map((model) => el("tr", {},
        el("td", {}, el("a", { href: consolePath(`/models/${model.ModelVersion}`), text: `Version ${model.ModelVersion}` })),
        el("td", { text: model.Algorithm }),
        el("td", {}, statusBadge(model.Status)),
        cell(model.Performance?.F1Score), cell(model.Performance?.Precision), cell(model.Performance?.Recall),
        el("td", { text: when(model.CreationTimestamp) }),
        el("td", { class: "actions" }, el("button", { type: "button", class: "danger ghost small", "aria-label": `Delete model version ${model.ModelVersion}`, onclick: () => remove(model.ModelVersion), text: "Delete" })))))));
  } catch (error) {
    showError(target, error);
  }
}

render();
