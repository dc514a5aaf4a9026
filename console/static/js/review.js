// The reviewer queue: one task at a time with the model's verdict and heatmap (H), keys N / A / S, and U to undo.
// Undo is honest: a verdict is held here for 10 s before CompleteReviewTask is sent, so U simply never sends it (the
// task stays claimed by this reviewer meanwhile). Closing the page sends a held verdict at once and releases the
// task on screen, with fetch keepalive and the CSRF header (sendBeacon cannot carry the header the session needs).
import { call, get, query } from "./api.js";
import { $, el, empty, pct, projectPath, toast } from "./ui.js";

const HOLD_MS = 10_000;
const RENEW_MS = 30_000;
const reviewer = $("#review").dataset.reviewer;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
let current = null; // the task on screen
let held = null; // { task, body, timer, until }
let painting = false;
let busy = false; // a task change in flight: keys pressed meanwhile are ignored, never sent twice

const taskPath = (task, suffix = "") => projectPath(`/reviewtasks/${encodeURIComponent(task.TaskId)}${suffix}`);

// ---- counters: pending, my verdicts today, my agreement with the model ----
async function counters() {
  let pending = 0, today = 0, mine = 0, agreed = 0, token;
  const midnight = new Date().setHours(0, 0, 0, 0) / 1000;
  for (let pages = 0; pages < 20; pages += 1) {
    const page = await get(projectPath(`/reviewtasks${query({ nextToken: token, maxResults: 100 })}`));
    for (const task of page.ReviewTasks) {
      if (task.Status === "PENDING") pending += 1;
      for (const action of task.Actions) {
        if (action.Reviewer !== reviewer || action.Action !== "VERDICT") continue;
        mine += 1;
        if ((action.Verdict === "anomaly") === action.ModelIsAnomalous) agreed += 1;
        if (action.ActedAt >= midnight) today += 1;
      }
    }
    token = page.NextToken;
    if (!token) break;
  }
  $("#count-pending").textContent = String(pending);
  $("#count-today").textContent = String(today);
  $("#count-agreement").textContent = mine ? pct(agreed / mine) : "–";
}

// ---- the task on screen ----
function showEmpty() {
  current = null;
  $("#review-task").hidden = true;
  $("#review-empty").hidden = false;
  $("#review-empty").replaceChildren(empty("No tasks waiting", "Every routed detection you may judge has a verdict, is with another reviewer or was skipped by you. New ones appear as the hosted models route them.",
    el("button", { type: "button", class: "primary", onclick: once(next), text: "Check again" })));
}

async function show(task) {
  const { ReviewTask: full } = await get(taskPath(task));
  current = full;
  const type = full.ImageFormat === "jpeg" ? "image/jpeg" : "image/png";
  const image = $("#task-image");
  await new Promise((resolve) => { image.onload = resolve; image.onerror = resolve; image.src = `data:${type};base64,${full.Image ?? ""}`; });
  $("#task-heatmap").src = full.Heatmap ? `data:image/png;base64,${full.Heatmap}` : image.src;
  const canvas = $("#task-mask");
  canvas.width = full.ImageWidth;
  canvas.height = full.ImageHeight;
  $("#paint-mask").checked = false;
  setPainting(false);
  $("#note").value = "";
  const verdict = $("#model-verdict");
  verdict.textContent = `Model says: ${full.IsAnomalous ? "anomaly" : "normal"}`;
  verdict.className = `verdict ${full.IsAnomalous ? "bad" : "good"}`;
  $("#model-confidence").textContent = `confidence ${pct(full.Confidence)} · score ${full.Score.toFixed(3)} (threshold ${full.Threshold.toFixed(3)}) · anomalous area ${pct(full.AnomalyArea)}`;
  const reason = full.Reason.replaceAll("_", " ").toLowerCase();
  $("#task-meta").textContent = `Task ${full.TaskId} · model version ${full.ModelVersion} · ${reason}${full.Disputed ? " · disputed" : ""}`;
  $("#review-empty").hidden = true;
  $("#review-task").hidden = false;
}

async function next() {
  try {
    const { ReviewTask: task } = await call("POST", projectPath("/reviewtasks/claim"), {});
    if (task) await show(task); else showEmpty();
  } catch (error) {
    toast(`Could not claim a task: ${error.message}`, "bad");
  }
  counters().catch(() => {});
}

// ---- verdicts, held for 10 s ----
function maskPng() {
  const canvas = $("#task-mask");
  const out = document.createElement("canvas");
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0); // the strokes are white
  return out.toDataURL("image/png").split(",")[1];
}

function hasPaint() {
  const canvas = $("#task-mask");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return true;
  return false;
}

async function send(entry, { keepalive = false } = {}) {
  if (keepalive) {
    fetch(`/2020-11-20${taskPath(entry.task, "/complete")}`, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(entry.body),
    });
    return;
  }
  try {
    await call("POST", taskPath(entry.task, "/complete"), entry.body);
  } catch (error) {
    toast(`Verdict on task ${entry.task.TaskId} not saved: ${error.message}`, "bad");
  }
  counters().catch(() => {});
}

function flushHeld(options) {
  if (!held) return;
  const entry = held;
  held = null;
  clearInterval(entry.timer);
  $("#held").hidden = true;
  send(entry, options);
}

function renderHeld() {
  if (!held) return;
  const left = Math.max(0, Math.ceil((held.until - Date.now()) / 1000));
  $("#held-text").textContent = `Task ${held.task.TaskId} marked ${held.body.Verdict}; sending in ${left} s.`;
  if (left === 0) flushHeld();
}

async function verdict(kind) {
  if (!current) return;
  flushHeld(); // only the last verdict can be undone
  const body = { Verdict: kind };
  const note = $("#note").value.trim();
  if (note) body.Note = note;
  if (kind === "anomaly" && hasPaint()) body.Mask = maskPng();
  held = { task: current, body, until: Date.now() + HOLD_MS };
  held.timer = setInterval(renderHeld, 250);
  $("#held").hidden = false;
  renderHeld();
  await next();
}

async function undo() {
  if (!held) {
    toast("Nothing to undo: a verdict can be undone for 10 s, until it is sent.");
    return;
  }
  const entry = held;
  held = null;
  clearInterval(entry.timer);
  $("#held").hidden = true;
  if (current) await call("POST", taskPath(current, "/release")).catch(() => {});
  await show(entry.task);
  $("#note").value = entry.body.Note ?? "";
  toast(`Verdict on task ${entry.task.TaskId} undone.`);
}

async function skip() {
  if (!current) return;
  const task = current;
  try {
    await call("POST", taskPath(task, "/skip"));
  } catch (error) {
    toast(`Not skipped: ${error.message}`, "bad");
  }
  await next();
}

// One task change at a time.
function once(action) {
  return async () => {
    if (busy) return;
    busy = true;
    try {
      await action();
    } finally {
      busy = false;
    }
  };
}

// ---- heatmap toggle and mask painting ----
function setHeatmap(shown) {
  $("#show-heatmap").checked = shown;
  $("#task-heatmap").hidden = !shown;
}

function setPainting(on) {
  $("#task-mask").classList.toggle("on", on);
  $("#brush").disabled = !on;
  if (!on) return;
  setHeatmap(false);
}

function stroke(event) {
  if (!painting || !$("#paint-mask").checked) return;
  const canvas = $("#task-mask");
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.beginPath();
  ctx.arc((event.clientX - box.left) * scale, (event.clientY - box.top) * scale, (Number($("#brush").value) * scale) / 2, 0, 2 * Math.PI);
  ctx.fill();
}

const canvas = $("#task-mask");
canvas.addEventListener("pointerdown", (event) => { painting = true; canvas.setPointerCapture(event.pointerId); stroke(event); });
canvas.addEventListener("pointermove", stroke);
canvas.addEventListener("pointerup", () => { painting = false; });
$("#paint-mask").addEventListener("change", (event) => setPainting(event.target.checked));
$("#clear-mask").addEventListener("click", () => canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height));
$("#show-heatmap").addEventListener("change", (event) => setHeatmap(event.target.checked));
const judgeNormal = once(() => verdict("normal"));
const judgeAnomaly = once(() => verdict("anomaly"));
const skipOnce = once(skip);
const undoOnce = once(undo);
$("#verdict-normal").addEventListener("click", judgeNormal);
$("#verdict-anomaly").addEventListener("click", judgeAnomaly);
$("#skip-task").addEventListener("click", skipOnce);
$("#undo").addEventListener("click", undoOnce);

const KEYS = { n: judgeNormal, a: judgeAnomaly, s: skipOnce, u: undoOnce, h: () => setHeatmap(!$("#show-heatmap").checked) };
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input[type=text], input[type=number], textarea, select")) return;
  const action = KEYS[event.key.toLowerCase()];
  if (action) { event.preventDefault(); action(); }
});

// ---- the lease: renewed while open (ClaimReviewTask on a held task renews it), released on close ----
setInterval(() => {
  for (const task of [current, held?.task]) {
    if (task) call("POST", projectPath("/reviewtasks/claim"), { TaskId: task.TaskId }).catch(() => {});
  }
}, RENEW_MS);
window.addEventListener("pagehide", () => {
  flushHeld({ keepalive: true });
  if (current) {
    fetch(`/2020-11-20${taskPath(current, "/release")}`, { method: "POST", keepalive: true, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
    current = null;
  }
});

next();
