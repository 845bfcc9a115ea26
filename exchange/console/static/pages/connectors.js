// Connectors: status, throughput, lag and dead letters; pause, resume and restart.
// While the table is shown its figures are read again every few seconds and updated in
// place (buttons stay where they are, so keyboard focus is kept); throughput is the change
// in records out between two reads, per second.
import { attempt, el, showStatus, table, when } from "../dom.js";

const READ_EVERY_MS = 3000;

export async function connectorsPage(page, session) {
  const body = el("div", { id: "connector-list", "aria-live": "polite" });
  const letters = el("section", { id: "dead-letters", "aria-live": "polite" });
  page.append(el("h2", {}, "Connectors"), body, letters);
  await listConnectors(session.hub, body, letters);
}

async function readStatus(hub, name) {
  const status = await hub.get(`/v1/connectors/${encodeURIComponent(name)}/status`);
  return { status, at: performance.now() };
}

async function listConnectors(hub, body, letters) {
  const { connectors } = await hub.get("/v1/connectors", { limit: 500 });
  const reads = await Promise.all(connectors.map((c) => readStatus(hub, c.name)));
  const rows = connectors.map((connector, index) => ({ ...connector, live: liveCells(), read: reads[index] }));
  const refresh = () => listConnectors(hub, body, letters);
  const box = table("Connectors", [
    ["Name", (c) => c.name],
    ["Kind", (c) => `${c.class} ${c.kind}`],
    ["Department", (c) => c.department],
    ["Subject", (c) => c.subject],
    ["State", (c) => c.live.state],
    ["Records in / out", (c) => c.live.counts],
    ["Throughput", (c) => c.live.throughput],
    ["Lag", (c) => c.live.lag],
    ["Dead letters", (c) => el("button", { type: "button", class: "link", "aria-label": `Dead letters of ${c.name}`, onclick: () => showDeadLetters(hub, c.name, letters) }, c.live.deadLetters)],
    ["Last error", (c) => c.live.error],
    ["Actions", (c) => el("div", { class: "actions" },
      action(hub, c, "Pause", "PUT", "pause"),
      action(hub, c, "Resume", "PUT", "resume"),
      action(hub, c, "Restart", "POST", "restart"))],
  ], rows, { id: "connectors" });
  for (const row of rows) paint(row.live, row.read.status, null);
  body.replaceChildren(box, el("button", { type: "button", class: "secondary", onclick: refresh }, "Refresh"));
  keepReading(hub, rows, box);
}

function liveCells() {
  return {
    state: el("span", { class: "badge" }),
    counts: el("span"),
    throughput: el("span", { class: "throughput" }, "measuring…"),
    lag: el("span"),
    deadLetters: el("span"),
    error: el("span"),
  };
}

// `rate` is records out per second since the previous read; null before a second read.
function paint(live, status, rate) {
  live.state.className = `badge ${status.state.toLowerCase()}`;
  live.state.textContent = status.state;
  live.counts.textContent = `${status.records_in} / ${status.records_out}`;
  if (rate !== null) live.throughput.textContent = `${rate.toFixed(1)} records/s`;
  live.lag.textContent = status.lag === null || status.lag === undefined ? "—" : `${status.lag} behind`;
  live.deadLetters.textContent = String(status.dead_lettered);
  live.error.textContent = status.last_error || "—";
}

// Reads each status again every few seconds until this table leaves the page (another
// section, or a refresh drawing a new table).
async function keepReading(hub, rows, box) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, READ_EVERY_MS));
    if (!box.isConnected) return;
    const reads = await Promise.all(rows.map((row) => readStatus(hub, row.name).catch(() => null)));
    if (!box.isConnected) return;
    rows.forEach((row, index) => {
      const read = reads[index];
      if (!read) return;
      const seconds = (read.at - row.read.at) / 1000;
      const moved = read.status.records_out - row.read.status.records_out;
      // A restart may reset the counters: no rate rather than a negative one.
      paint(row.live, read.status, moved >= 0 && seconds > 0 ? moved / seconds : null);
      row.read = read;
    });
  }
}

// Each answers 202 with the connector's status, painted in place: focus stays on the button.
function action(hub, row, label, method, verb) {
  return el("button", {
    type: "button",
    class: "secondary",
    "aria-label": `${label} ${row.name}`,
    onclick: async () => {
      const path = `/v1/connectors/${encodeURIComponent(row.name)}/${verb}`;
      const status = await attempt(() => hub.request(method, path), `${label} ${row.name}`);
      if (status) {
        paint(row.live, status, null);
        showStatus(`${label} asked of ${row.name}: now ${status.state}.`, "ok");
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
