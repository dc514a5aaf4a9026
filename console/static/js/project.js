// A project's datasets: counts, a paged gallery with filters, drag-and-drop upload with progress, storage imports.
import { call, get, query, upload } from "./api.js";
import { $, consolePath, el, empty, projectPath, showError, statusBadge, toast } from "./ui.js";

const PAGE_SIZE = 48;
const UPLOAD_BATCH = 25;
const TYPES = ["train", "test"];

// Only datasets the project has are described (DescribeProject lists them), so no request answers 404.
async function datasetTypes() {
  const { ProjectDescription } = await get(projectPath());
  return new Set(ProjectDescription.Datasets.map((dataset) => dataset.DatasetType));
}

async function describe(type, existing) {
  return existing.has(type) ? (await get(projectPath(`/datasets/${type}`))).DatasetDescription : null;
}

async function removeDataset(type) {
  if (!window.confirm(`Delete the ${type} dataset and all its entries?`)) return;
  try {
    await call("DELETE", projectPath(`/datasets/${type}`));
    toast(`The ${type} dataset is being deleted.`);
    setTimeout(renderDatasets, 800);
  } catch (error) {
    toast(error.message, "bad");
  }
}

function datasetCard(type, description) {
  if (!description) {
    return el("div", { class: "card", "data-dataset": type },
      el("h2", { text: `${type} dataset` }),
      empty("No images yet", `Upload or import images into ${type} below.`));
  }
  const stats = description.ImageStats;
  const unlabelled = stats.Total - stats.Labeled;
  const figure = (label, value, tone) => el("div", { class: `figure ${tone}` }, el("span", { class: "value", text: value }), el("span", { class: "label", text: label }));
  return el("div", { class: "card", "data-dataset": type },
    el("div", { class: "section-head" }, el("h2", { text: `${type} dataset` }), statusBadge(description.Status)),
    el("div", { class: "figures" },
      figure("images", stats.Total, ""),
      figure("normal", stats.Normal, "good"),
      figure("anomaly", stats.Anomaly, "bad"),
      figure("unlabelled", unlabelled, "idle")),
    description.StatusMessage ? el("p", { class: "hint", text: description.StatusMessage }) : null,
    el("button", { type: "button", class: "danger ghost small", "aria-label": `Delete the ${type} dataset`, onclick: () => removeDataset(type), text: "Delete dataset" }));
}

async function renderDatasets() {
  const target = $("#datasets");
  try {
    const existing = await datasetTypes();
    const descriptions = await Promise.all(TYPES.map((type) => describe(type, existing)));
    target.replaceChildren(...TYPES.map((type, i) => datasetCard(type, descriptions[i])));
  } catch (error) {
    showError(target, error);
  }
}

// ---- gallery: ListDatasetEntries pages; tokens kept so Previous works without re-reading from the start
const gallery = { tokens: [undefined], index: 0, request: 0 };

function entryView(line) {
  const entry = JSON.parse(line);
  const ref = entry["source-ref"];
  const meta = entry["anomaly-label-metadata"];
  const label = meta ? meta["class-name"] : "unlabelled";
  const name = ref.split("/").slice(-2).join("/");
  const thumb = `${consolePath("/image")}?ref=${encodeURIComponent(ref)}&size=thumb`;
  const open = () => {
    $("#image-full").src = `${consolePath("/image")}?ref=${encodeURIComponent(ref)}&size=full`;
    $("#image-full").alt = name;
    $("#image-caption").textContent = `${ref} · ${label}`;
    $("#image-dialog").showModal();
  };
  return el("figure", { class: "tile" },
    el("button", { type: "button", class: "tile-image", "aria-label": `Open ${name}`, onclick: open },
      el("img", { src: thumb, alt: name, width: 160, height: 160 })),
    el("figcaption", {}, el("span", { class: `chip ${label === "anomaly" ? "bad" : label === "normal" ? "good" : "idle"}`, text: label }), el("span", { class: "name", title: ref, text: name })));
}

async function renderGallery() {
  const target = $("#gallery");
  const request = ++gallery.request; // a newer filter change wins over an older answer
  const type = $("#gallery-dataset").value;
  const label = $("#gallery-label").value;
  const params = {
    maxResults: PAGE_SIZE,
    nextToken: gallery.tokens[gallery.index],
    labeled: label === "unlabeled" ? "false" : undefined,
    anomalyClass: label === "normal" || label === "anomaly" ? label : undefined,
    sourceRefContains: $("#gallery-search").value.trim() || undefined,
  };
  try {
    if (!(await datasetTypes()).has(type)) {
      target.replaceChildren(empty(`No ${type} dataset yet`, "Upload or import images to create it."));
      $("#gallery-next").disabled = true;
      $("#gallery-prev").disabled = true;
      $("#gallery-page").textContent = "";
      return;
    }
    const page = await get(projectPath(`/datasets/${type}/entries${query(params)}`));
    if (request !== gallery.request) return;
    gallery.tokens[gallery.index + 1] = page.NextToken;
    if (!page.DatasetEntries.length) {
      target.replaceChildren(empty("No images match", gallery.index ? "This is past the last page." : "Upload images, import a folder, or change the filters."));
    } else {
      target.replaceChildren(...page.DatasetEntries.map(entryView));
    }
    $("#gallery-prev").disabled = gallery.index === 0;
    $("#gallery-next").disabled = !page.NextToken;
    $("#gallery-page").textContent = `Page ${gallery.index + 1}`;
  } catch (error) {
    showError(target, error);
  }
}

function resetGallery() {
  gallery.tokens = [undefined];
  gallery.index = 0;
  renderGallery();
}

$("#gallery-dataset").addEventListener("change", resetGallery);
$("#gallery-label").addEventListener("change", resetGallery);
let searchTimer;
$("#gallery-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(resetGallery, 300); });
$("#gallery-filters").addEventListener("submit", (event) => { event.preventDefault(); resetGallery(); });
$("#gallery-prev").addEventListener("click", () => { gallery.index -= 1; renderGallery(); });
$("#gallery-next").addEventListener("click", () => { gallery.index += 1; renderGallery(); });

// ---- upload: batches of UPLOAD_BATCH images, one progress bar over all bytes
function setProgress(fraction, text) {
  const box = $("#upload-progress");
  box.hidden = false;
  const bar = box.querySelector(".bar");
  bar.style.setProperty("--done", `${Math.round(100 * fraction)}%`);
  bar.setAttribute("aria-valuenow", String(Math.round(100 * fraction)));
  box.querySelector(".progress-text").textContent = text;
}

async function uploadFiles(files) {
  const images = [...files].filter((file) => /^image\/(png|jpeg)$/.test(file.type) || /\.(png|jpe?g)$/i.test(file.name));
  if (!images.length) {
    toast("Choose PNG or JPEG images.", "bad");
    return;
  }
  const type = $("#upload-dataset").value;
  const label = $("#upload-label").value;
  const total = images.reduce((sum, file) => sum + file.size, 0);
  let sent = 0;
  let added = 0;
  try {
    for (let start = 0; start < images.length; start += UPLOAD_BATCH) {
      const batch = images.slice(start, start + UPLOAD_BATCH);
      const form = new FormData();
      batch.forEach((file, i) => {
        form.append(`image.i${start + i}`, file, file.name);
        form.append(`label.i${start + i}`, label);
      });
      const size = batch.reduce((sum, file) => sum + file.size, 0);
      const reply = await upload(projectPath(`/datasets/${type}/images`), form, (fraction) =>
        setProgress((sent + fraction * size) / total, `Uploading ${start + batch.length} of ${images.length}…`));
      sent += size;
      added += reply.Images.filter((image) => !image.Duplicate).length;
    }
    setProgress(1, `${images.length} uploaded (${added} new, ${images.length - added} already there).`);
    toast(`${images.length} image${images.length === 1 ? "" : "s"} uploaded to ${type}.`);
    renderDatasets();
    resetGallery();
  } catch (error) {
    setProgress(sent / total, "Upload refused.");
    toast(error.message, "bad");
  }
}

const dropzone = $("#dropzone");
dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.classList.add("over"); });
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("over");
  uploadFiles(event.dataTransfer.files);
});
$("#upload-files").addEventListener("change", (event) => uploadFiles(event.target.files));

// ---- import from the service's storage
$("#import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const uri = $("#import-uri").value.trim();
  const layout = $("#import-layout").value;
  const into = $("#import-dataset").value;
  const types = into === "both" ? TYPES : [into];
  const result = $("#import-result");
  $("#import-button").disabled = true;
  result.textContent = "Importing…";
  try {
    const lines = [];
    for (const type of types) {
      const body = { S3Uri: uri, Layout: layout };
      const reply = await call("POST", projectPath(`/datasets/${type}/imports`), body);
      const counts = reply.ImportedImages;
      lines.push(`${type}: ${counts.Total} images (${counts.Normal} normal, ${counts.Anomaly} anomaly, ${counts.Masks} masks, ${counts.Duplicates} already there)`);
    }
    result.textContent = `Imported. ${lines.join("; ")}.`;
    renderDatasets();
    resetGallery();
  } catch (error) {
    result.textContent = "";
    toast(`Import refused: ${error.message}`, "bad");
  } finally {
    $("#import-button").disabled = false;
  }
});

renderDatasets();
renderGallery();
