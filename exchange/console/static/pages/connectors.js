// Connectors: status, throughput, lag and dead letters; pause, resume and restart.
import { attempt, el, showStatus, table, when } from "../dom.js";

export async function connectorsPage(page, session) {
  page.append(el("h2", {}, "Connectors"));
  if (session.me.role === "auditor") {
    page.append(el("p", {}, "Connectors are managed by their departments and administrators."));
    return;
  }
  const body = el("div", { id: "connector-list", "aria-live": "polite" });
  const letters = el("section", { id: "dead-letters", "aria-live": "polite" });
  page.append(body, letters);
  await listConnectors(session.hub, body, letters);
}

async function listConnectors(hub, body, letters) {
  const { connectors } = await hub.get("/v1/connectors", { limit: 500 });
  const statuses = await Promise.all(connectors.map((c) => hub.get(`/v1/connectors/${encodeURIComponent(c.name)}/status`)));
  const rows = connectors.map((connector, index) => ({ ...connector, status: statuses[index] }));
  const refresh = () => listConnectors(hub, body, letters);
  body.replaceChildren(
    table("Connectors", [
      ["Name", (c) => c.name],
      ["Kind", (c) => `${c.class} ${c.kind}`],
      ["Department", (c) => c.department],
      ["Subject", (c) => c.subject],
      ["State", (c) => el("span", { class: `badge ${c.status.state.toLowerCase()}` }, c.status.state)],
      ["Records in / out", (c) => `${c.status.records_in} / ${c.status.records_out}`],
      ["Lag", (c) => (c.status.lag ?? "—")],
      ["Dead letters", (c) => el("button", { type: "button", class: "link", onclick: () => showDeadLetters(hub, c.name, letters) }, String(c.status.dead_lettered))],
      ["Last error", (c) => c.status.last_error || "—"],
      ["Actions", (c) => el("div", { class: "actions" },
        action(hub, c, "Pause", "PUT", "pause", refresh),
        action(hub, c, "Resume", "PUT", "resume", refresh),
        action(hub, c, "Restart", "POST", "restart", refresh))],
    ], rows, { id: "connectors" }),
    el("button", { type: "button", class: "secondary", onclick: refresh }, "Refresh"),
  );
}

function action(hub, connector, label, method, verb, refresh) {
  return el("button", {
    type: "button",
    class: "secondary",
    "aria-label": `${label} ${connector.name}`,
    onclick: async () => {
      const path = `/v1/connectors/${encodeURIComponent(connector.name)}/${verb}`;
      if (await attempt(() => hub.request(method, path), `${label} ${connector.name}`)) {
        showStatus(`${label} asked of ${connector.name}.`, "ok");
        await refresh();
      }
    },
  }, label);
}

async function showDeadLetters(hub, name, letters) {
  const { dead_letters: found } = await hub.get(`/v1/connectors/${encodeURIComponent(name)}/dlq`, { limit: 100 });
  letters.replaceChildren(table(`Dead letters of ${name}`, [
    ["Offset", (d) => d.offset],
    ["Reason", (d) => d.reason],
    ["Source position", (d) => el("code", {}, JSON.stringify(d.position))],
    ["At", (d) => when(d.at)],
  ], found));
}
