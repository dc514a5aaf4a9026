// The public API, called with the console session: the cookie travels by itself, mutations carry the CSRF token.
// The browser never sees an access key secret.

const API = "/2020-11-20";
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

async function failure(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON */ }
  const type = body.__type || response.headers.get("x-amzn-ErrorType") || `HTTP ${response.status}`;
  return new ApiError(type, body.Message || response.statusText, response.status);
}

export async function call(method, path, body, { contentType } = {}) {
  const headers = { "X-CSRF-Token": csrf };
  let payload = body;
  if (body !== undefined && !(body instanceof Blob)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  } else if (body instanceof Blob) {
    headers["Content-Type"] = contentType || body.type || "application/octet-stream";
  }
  const response = await fetch(API + path, { method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 403 && (await response.clone().text()).includes("console session")) {
    window.location.assign(`/console/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

export const get = (path) => call("GET", path);

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// A multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can).
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", API + path);
    request.setRequestHeader("X-CSRF-Token", csrf);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError("NetworkError", "The upload did not reach the service.", 0));
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(body.__type || `HTTP ${request.status}`, body.Message || request.statusText, request.status));
    };
    request.send(form);
  });
}
