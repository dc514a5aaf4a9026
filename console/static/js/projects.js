// Projects: list (every page of ListProjects), create, delete with the datasets/models rule explained.
import { call, get } from "./api.js";
import { $, el, empty, showError, toast, when } from "./ui.js";

const list = $("#projects");

async function projects() {
  const all = [];
  let token;
  do {
    const page = await get(`/projects${token ? `?nextToken=${encodeURIComponent(token)}` : ""}`);
    all.push(...page.Projects);
    token = page.NextToken;
  } while (token);
  return all;
}

async function remove(name) {
  if (!window.confirm(`Delete project ${name}? This cannot be undone.`)) return;
  try {
    await call("DELETE", `/projects/${encodeURIComponent(name)}`);
    toast(`Project ${name} deleted.`);
    await render();
  } catch (error) {
    toast(`${name} was not deleted: ${error.message}`, "bad");
  }
}

async function render() {
  try {
    const rows = await projects();
    if (!rows.length) {
      list.replaceChildren(empty("No projects yet", "Create one above, then upload or import its images."));
      return;
    }
    const body = rows.map((project) =>
      el("tr", {},
        el("td", {}, el("a", { href: `/console/projects/${encodeURIComponent(project.ProjectName)}`, text: project.ProjectName })),
        el("td", { text: when(project.CreationTimestamp) }),
        el("td", { class: "actions" },
          el("button", { class: "danger ghost", type: "button", "aria-label": `Delete project ${project.ProjectName}`, onclick: () => remove(project.ProjectName), text: "Delete" }))));
    list.replaceChildren(el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Project" }), el("th", { text: "Created" }), el("th", { text: "", "aria-label": "Actions" }))),
      el("tbody", {}, body)));
  } catch (error) {
    showError(list, error);
  }
}

$("#create-project").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("#project-name");
  try {
    await call("POST", "/projects", { ProjectName: input.value.trim() });
    window.location.assign(`/console/projects/${encodeURIComponent(input.value.trim())}`);
  } catch (error) {
    toast(error.message, "bad");
  }
});

render();
