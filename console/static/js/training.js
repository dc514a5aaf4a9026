// Training: start a model version (algorithm, image size, weights, tiles), its live progress bar and log, failures.
import { ApiError, call, get } from "./api.js";
import { $, allModels, consolePath, el, empty, pct, projectPath, showError, statusBadge, toast, when } from "./ui.js";

const POLL_MS = 1000;
const form = $("#train-form");
let watched = null; // { version, logAfter, timer }

async function loadAlgorithms() {
  const select = $("#train-algorithm");
  try {
    const response = await fetch("/console/algorithms", { credentials: "same-origin" });
    if (!response.ok) throw new Error("The algorithm list is unavailable.");
    const { Default, Algorithms } = await response.json();
    select.replaceChildren(...Algorithms.map((spec) => el("option", { value: spec.Name, selected: spec.Name === Default, text: spec.Name })));
    const help = () => {
      const spec = Algorithms.find((item) => item.Name === select.value);
      $("#algorithm-help").textContent = spec ? `${spec.Description.replace(/\.?$/, ".")}${spec.NeedsPretrained ? " Best with ImageNet weights." : ""}` : "";
    };
    select.addEventListener("change", help);
    help();
  } catch (error) {
    select.replaceChildren(el("option", { value: "", text: "default" }));
    $("#algorithm-help").textContent = error.message;
  }
}

function hyperparameters() {
  const text = $("#train-hyperparameters").value.trim();
  if (!text) return undefined;
  const values = {};
  for (const line of text.split(/\n|,/)) {
    const [name, ...rest] = line.split("=");
    if (name.trim()) values[name.trim()] = rest.join("=").trim();
  }
  return values;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    OutputConfig: { S3Location: { Bucket: form.dataset.bucket, Prefix: "models/" } },
    Algorithm: $("#train-algorithm").value || undefined,
    BackboneWeights: $("#train-weights").value || undefined,
    ImageSize: $("#train-size").value ? Number($("#train-size").value) : undefined,
    TileSize: $("#train-tiles").value || undefined,
    Description: $("#train-description").value.trim(),
    Hyperparameters: hyperparameters(),
  };
  $("#train-button").disabled = true;
  $("#train-error").hidden = true;
  try {
    const { ModelMetadata } = await call("POST", projectPath("/models"), body);
    toast(`Model version ${ModelMetadata.ModelVersion} is training.`);
    await renderVersions();
    watch(ModelMetadata.ModelVersion);
  } catch (error) {
    $("#train-error").textContent = `Training not started: ${error.message}`;
    $("#train-error").hidden = false;
  } finally {
    $("#train-button").disabled = false;
  }
});

function progressBar(percent, failed) {
  const value = Math.round(percent ?? 0);
  return el("div", { class: `progress${failed ? " failed" : ""}` },
    el("div", { class: "bar", role: "progressbar", "aria-label": "Training progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": value, style: `--done: ${value}%` }));
}

async function poll() {
  if (!watched) return;
  const { version } = watched;
  const panel = $("#job");
  try {
    const [{ ModelDescription: model }, job] = await Promise.all([
      get(projectPath(`/models/${version}`)),
      get(projectPath(`/models/${version}/training?logAfter=${watched.logAfter}`)),
    ]);
    if (!watched || watched.version !== version) return;
    const log = panel.querySelector(".log") ?? el("pre", { class: "log", "aria-label": "Training log" });
    for (const line of job.Log) {
      log.append(`${new Date(line.Timestamp * 1000).toLocaleTimeString()}  ${line.Message}\n`);
      watched.logAfter = line.Id;
    }
    const failed = model.Status === "TRAINING_FAILED";
    const running = model.Status === "TRAINING";
    const state = job.TrainingJob;
    panel.replaceChildren(...[
      el("div", { class: "section-head" }, el("h2", { text: `Model version ${version}` }), statusBadge(model.Status)),
      el("p", { class: "muted", text: `${model.Algorithm} · ${state.Phase || state.State.toLowerCase()} · ${Math.round(state.Percent ?? 0)}%` }),
      progressBar(failed ? 100 : running ? state.Percent : 100, failed),
      failed ? el("p", { class: "error", role: "alert", text: model.StatusMessage || state.Message || "Training failed." }) : null,
      model.Status === "TRAINED" ? el("p", {}, el("a", { class: "button primary", href: consolePath(`/models/${version}`), text: "See the evaluation" })) : null,
      log].filter(Boolean));
    log.scrollTop = log.scrollHeight;
    if (running) watched.timer = setTimeout(poll, POLL_MS);
    else renderVersions();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      panel.replaceChildren(empty("No training job", `Model version ${version} has no training job (it may have been deleted).`));
    } else {
      showError(panel, error);
      watched.timer = setTimeout(poll, POLL_MS * 3);
    }
  }
}

function watch(version) {
  if (watched) clearTimeout(watched.timer);
  watched = { version: String(version), logAfter: 0, timer: null };
  $("#job").replaceChildren(el("p", { class: "muted", text: `Loading model version ${version}…` }));
  poll();
}

async function renderVersions() {
  const target = $("#versions");
  try {
    const models = await allModels(get);
    if (!models.length) {
      target.replaceChildren(empty("No models yet", "Start training above: you need a train dataset with normal images."));
      $("#job").replaceChildren(empty("Nothing is training", "Progress and log lines show here while a model trains."));
      return models;
    }
    target.replaceChildren(el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ...["Version", "Algorithm", "Status", "Created", ""].map((text) => el("th", { text })))),
      el("tbody", {}, models.map((model) => el("tr", {},
        el("td", { text: model.ModelVersion }),
        el("td", { text: model.Algorithm }),
        el("td", {}, statusBadge(model.Status)),
        el("td", { text: when(model.CreationTimestamp) }),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "ghost small", "aria-label": `Show the training of version ${model.ModelVersion}`, onclick: () => watch(model.ModelVersion), text: "Progress" }),
          model.Performance ? el("a", { class: "button ghost small", href: consolePath(`/models/${model.ModelVersion}`), "aria-label": `Evaluation of version ${model.ModelVersion}`, text: `F1 ${pct(model.Performance.F1Score)}` }) : null))))));
    return models;
  } catch (error) {
    showError(target, error);
    return [];
  }
}

loadAlgorithms();
renderVersions().then((models) => {
  const wanted = new URLSearchParams(window.location.search).get("version");
  if (wanted) watch(wanted);
  else if (models.length) watch(models[0].ModelVersion);
});
