// The reviewer's start page: every project with its pending review tasks, each a link to its queue.
import { get, query } from "./api.js";
import { $, el, empty, showError } from "./ui.js";

async function pending(name) {
  let count = 0, token;
  do {
    const page = await get(`/projects/${encodeURIComponent(name)}/reviewtasks${query({ status: "PENDING", nextToken: token, maxResults: 100 })}`);
    count += page.ReviewTasks.length;
    token = page.NextToken;
  } while (token);
  return count;
}

async function render() {
  const target = $("#review-projects");
  try {
    const projects = [];
    let token;
    do {
      const page = await get(`/projects${query({ nextToken: token })}`);
      projects.push(...page.Projects);
      token = page.NextToken;
    } while (token);
    if (!projects.length) {
      target.replaceChildren(empty("No projects yet", "An administrator creates projects and hosts models; routed detections then appear here."));
      return;
    }
    const counts = await Promise.all(projects.map((project) => pending(project.ProjectName)));
    target.replaceChildren(el("table", { class: "table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Project" }), el("th", { class: "num", text: "Pending tasks" }), el("th", {}))),
      el("tbody", {}, projects.map((project, index) => el("tr", {},
        el("td", { text: project.ProjectName }),
        el("td", { class: "num", text: String(counts[index]) }),
        el("td", { class: "actions" }, el("a", { class: `button ${counts[index] ? "primary" : ""}`, href: `/console/projects/${encodeURIComponent(project.ProjectName)}/review`, "aria-label": `Review ${project.ProjectName}`, text: counts[index] ? "Start reviewing" : "Open queue" })))))));
  } catch (error) {
    showError(target, error);
  }
}

render();
