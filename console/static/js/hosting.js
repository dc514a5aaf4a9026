// Hosting: start / stop model versions with min / max inference units, their status and current units, and
// "try it": one image through DetectAnomalies, shown with its verdict, confidence and anomaly mask overlay.
import { call, get } from "./api.js";
import { $, allModels, consolePath, el, empty, pct, projectPath, showError, statusBadge, toast } from "./ui.js";

const HOSTABLE = new Set(["TRAINED", "HOSTING_FAILED"]);
const MOVING = new Set(["STARTING_HOSTING", "STOPPING_HOSTING"]);
// openvino-int8 is quantised at its first start and refused (the toast says why) when it loses accuracy. The empty
// choice sends no Runtime: the version's own (from CreateModel or its last start), else the server's LV_HOSTING_RUNTIME.
const RUNTIMES = [["", "default runtime"], ["onnxruntime", "ONNX Runtime"], ["openvino", "OpenVINO"], ["openvino-int8", "OpenVINO INT8"]];
let pollTimer;

async function start(version, row) {
  const min = Number(row.querySelector(".min-units").value);
  const max = Number(row.querySelector(".max-units").value);
  const runtime = row.querySelector(".runtime").value;
  try {
    await call("POST", projectPath(`/models/${version}/start`), { MinInferenceUnits: min, MaxInferenceUnits: max, Runtime: runtime || undefined });
    toast(`Starting model version ${version}.`);
    render();
  } catch (error) {
    toast(`Not started: ${error.message}`, "bad");
  }
}

async function stop(version) {
  try {
    await call("POST", projectPath(`/models/${version}/stop`));
    toast(`Stopping model version ${version}.`);
    render();
  } catch (error) {
    toast(`Not stopped: ${error.message}`, "bad");
  }
}

function row(model) {
  const version = model.ModelVersion;
  const hosted = model.Status === "HOSTED";
  const units = hosted ? `${model.CurrentInferenceUnits ?? "–"} running (${model.MinInferenceUnits}–${model.MaxInferenceUnits})` : "–";
  const tr = el("tr", { "data-version": version },
    el("td", {}, el("a", { href: consolePath(`/models/${version}`), text: `Version ${version}` })),
    el("td", {}, statusBadge(model.Status)),
    el("td", { text: units }),
    el("td", {}, el("span", { class: "row" },
      el("input", { class: "min-units", type: "number", min: 1, max: 64, value: model.MinInferenceUnits ?? 1, "aria-label": `Minimum inference units for version ${version}`, style: "width:5rem" }),
      el("input", { class: "max-units", type: "number", min: 1, max: 64, value: model.MaxInferenceUnits ?? 2, "aria-label": `Maximum inference units for version ${version}`, style: "width:5rem" }))),
    el("td", { class: "actions" }));
  const actions = tr.querySelector(".actions");
  if (HOSTABLE.has(model.Status)) actions.append(el("select", { class: "runtime", "aria-label": `Runtime for version ${version}` },
    RUNTIMES.map(([name, label]) => el("option", { value: name, selected: name === (model.Runtime ?? ""), text: label }))));
  if (HOSTABLE.has(model.Status)) actions.append(el("button", { type: "button", class: "primary small", "aria-label": `Start hosting version ${version}`, onclick: () => start(version, tr), text: "Start" }));
  if (hosted || model.Status === "STARTING_HOSTING") actions.append(el("button", { type: "button", class: "danger ghost small", "aria-label": `Stop hosting version ${version}`, onclick: () => stop(version), text: "Stop" }));
  if (model.Status === "HOSTING_FAILED" && model.StatusMessage) tr.append(el("td", { class: "error", text: model.StatusMessage }));
  return tr;
}

async function render() {
  clearTimeout(pollTimer);
  const target = $("#hosting");
  try {
    const listed = (await allModels(get)).filter((model) => model.Status !== "TRAINING" && model.Status !== "TRAINING_FAILED");
    const models = await Promise.all(listed.map(async (model) => (await get(projectPath(`/models/${model.ModelVersion}`))).ModelDescription));
    if (!models.length) {
      target.replaceChildren(empty("No trained model yet", "Train a model first; then host it here.", el("a", { class: "button primary", href: consolePath("/training"), text: "Go to training" })));
    } else {
      target.replaceChildren(el("table", { class: "table" },
        el("thead", {}, el("tr", {}, ...["Model", "Status", "Inference units", "Min / max units", ""].map((text) => el("th", { text })))),
        el("tbody", {}, models.map(row))));
    }
    renderTry(models.filter((model) => model.Status === "HOSTED"));
    if (models.some((model) => MOVING.has(model.Status))) pollTimer = setTimeout(render, 1000);
  } catch (error) {
    showError(target, error);
  }
}

function renderTry(hosted) {
  const select = $("#try-model");
  const current = select.value;
  select.replaceChildren(...hosted.map((model) => el("option", { value: model.ModelVersion, selected: model.ModelVersion === current, text: `Version ${model.ModelVersion}` })));
  select.disabled = !hosted.length;
  $("#try-area").hidden = !hosted.length;
  $("#try-empty").replaceChildren(hosted.length ? "" : empty("No hosted model yet", "Start one above, then drop an image here to see its verdict."));
}

// The mask PNG is painted in the answer's colours (white background and red anomaly, or the classes' colours of a
// model trained on them): keep the defect colours, make the background transparent.
function maskLayer(maskUrl, background) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(background.slice(at, at + 2), 16));
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(image, 0, 0);
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < pixels.data.length; i += 4) {
        const isBackground = pixels.data[i] === r && pixels.data[i + 1] === g && pixels.data[i + 2] === b;
        pixels.data[i + 3] = isBackground ? 0 : 255;
      }
      ctx.putImageData(pixels, 0, 0);
      resolve(canvas.toDataURL("image/png"));
    };
    image.src = maskUrl;
  });
}

// The model's heatmap of the same image (a console route: DetectAnomalies answers with the mask only).
async function heatmap(version, file) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(`${consolePath(`/models/${version}/heatmap`)}`, {
    method: "POST", body: file, credentials: "same-origin",
    headers: { "Content-Type": file.type || "image/png", "X-CSRF-Token": csrf },
  });
  if (!response.ok) throw new Error("The heatmap could not be made.");
  return response.blob();
}

async function tryImage(file) {
  const version = $("#try-model").value;
  const target = $("#try-result");
  if (!file || !version) return;
  target.replaceChildren(el("p", { class: "muted", text: `Asking model version ${version}…` }));
  try {
    const { DetectAnomalyResult: result } = await call("POST", projectPath(`/models/${version}/detect`), file, { contentType: file.type || "image/png" });
    const [background, ...found] = result.Anomalies;
    const area = found.reduce((sum, item) => sum + item.PixelAnomaly.TotalPercentageArea, 0);
    const layer = await maskLayer(`data:image/png;base64,${result.AnomalyMask}`, background.PixelAnomaly.Color);
    const maskImage = el("img", { class: "layer", src: layer, alt: "Anomaly mask" });
    const heatImage = el("img", { class: "layer heat", alt: "Anomaly heatmap", src: URL.createObjectURL(await heatmap(version, file)) });
    const toggle = (image, shown) => el("input", { type: "checkbox", checked: shown, onchange: (event) => { image.hidden = !event.target.checked; } });
    maskImage.hidden = true;
    target.replaceChildren(
      el("p", { class: `verdict ${result.IsAnomalous ? "bad" : "good"}`, id: "verdict", text: result.IsAnomalous ? "Anomaly" : "Normal" }),
      el("p", { class: "muted", id: "confidence", text: `confidence ${pct(result.Confidence)} · anomalous area ${pct(area)}` }),
      el("ul", { class: "classes", id: "classes", "aria-label": "Anomaly classes" },
        found.map((item) => el("li", {},
          el("span", { class: "swatch", style: `background: ${item.PixelAnomaly.Color}` }),
          `${item.Name} · ${pct(item.PixelAnomaly.TotalPercentageArea)}`))),
      el("div", { class: "overlay" }, el("img", { src: URL.createObjectURL(file), alt: file.name }), heatImage, maskImage),
      el("div", { class: "row" },
        el("label", { class: "check" }, toggle(heatImage, true), "Heatmap"),
        el("label", { class: "check" }, toggle(maskImage, false), "Anomaly mask")));
  } catch (error) {
    showError(target, error);
  }
}

const drop = $("#try-drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); tryImage(event.dataTransfer.files[0]); });
$("#try-file").addEventListener("change", (event) => tryImage(event.target.files[0]));

render();
