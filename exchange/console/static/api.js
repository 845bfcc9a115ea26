// Signed calls to the hub's API; problems (RFC 9457) become `ProblemError`s.
import { utf8 } from "./encoding.js";
import { signatureHeaders } from "./signing.js";

export class ProblemError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function queryString(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

export class HubClient {
  constructor(signer) {
    this.signer = signer;
  }

  get keyId() {
    return this.signer.keyId;
  }

  // `path` may carry a query built with `queryString`; the URL is signed as it goes on the wire.
  async request(method, path, json) {
    const url = new URL(path, window.location.origin).href;
    const body = json === undefined ? null : utf8(JSON.stringify(json));
    const headers = await signatureHeaders(this.signer, method, url, body, "application/json");
    const response = await fetch(url, { method, headers, body, cache: "no-store" });
    const type = response.headers.get("Content-Type") || "";
    const payload = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new ProblemError(response.status, typeof payload === "object" ? payload : { detail: payload });
    return payload;
  }

  get(path, params) {
    return this.request("GET", path + queryString(params));
  }

  post(path, json) {
    return this.request("POST", path, json);
  }

  put(path, json) {
    return this.request("PUT", path, json);
  }

  delete(path) {
    return this.request("DELETE", path);
  }
}

// Public endpoints (the hub's keys) need no signature.
export async function getPublic(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new ProblemError(response.status, await response.json());
  return response.json();
}
