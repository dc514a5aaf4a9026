// Small DOM helpers shared by the pages: element building, formatting, the toast, empty states.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export const project = document.body.dataset.project;
export const projectPath = (suffix = "") => `/projects/${encodeURIComponent(project)}${suffix}`;
export const consolePath = (suffix = "") => `/console/projects/${encodeURIComponent(project)}${suffix}`;

export const pct = (value) => (value === undefined || value === null || Number.isNaN(value) ? "–" : `${(100 * value).toFixed(1)}%`);
export const num = (value, digits = 3) => (value === undefined || value === null || Number.isNaN(value) ? "–" : Number(value).toFixed(digits));
export const when = (epochSeconds) => new Date(epochSeconds * 1000).toLocaleString();

export function toast(message, kind = "info") {
  const node = $("#toast");
  node.textContent = message;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 5000);
}

export function showError(target, error) {
  target.replaceChildren(el("p", { class: "error", role: "alert", text: error.message || String(error) }));
}

export function empty(title, text, action) {
  return el("div", { class: "empty" }, el("p", { class: "empty-title", text: title }), el("p", { text }), action ?? null);
}

export function statusBadge(status) {
  const tone = /FAILED|ERROR/.test(status) ? "bad" : /IN_PROGRESS|TRAINING|STARTING|STOPPING|DELETING|RUNNING|QUEUED/.test(status) ? "busy" : /HOSTED|TRAINED|COMPLETE|SUCCEEDED/.test(status) ? "good" : "idle";
  return el("span", { class: `badge ${tone}`, text: status.replaceAll("_", " ").toLowerCase() });
}

// Every model version of the project (ListModels pages), newest first.
export async function allModels(get) {
  const models = [];
  let token;
  do {
    const page = await get(projectPath(`/models${token ? `?nextToken=${encodeURIComponent(token)}` : ""}`));
    models.push(...page.Models);
    token = page.NextToken;
  } while (token);
  return models;
}
