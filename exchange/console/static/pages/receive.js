// Receive (departments): the grants this department holds, and for each a pull from a
// subscription (deliveries projected and signed by the hub) or a look-up of one key.
import { attempt, el, field, showStatus, table } from "../dom.js";

const WAIT_MS = 2000;

export async function receivePage(page, session) {
  page.append(el("h2", {}, "Receive"));
  if (session.me.role !== "department") {
    page.append(el("p", {}, "Receiving is for departments: sign in with a department's key."));
    return;
  }
  const { grants } = await session.hub.get("/v1/grants", { consumer: session.me.name, status: "approved", limit: 500 });
  const output = el("section", { id: "deliveries", "aria-live": "polite" });
  page.append(
    table("Grants this department holds", [
      ["Subject", (g) => g.subject],
      ["Purpose", (g) => g.purpose],
      ["Fields", (g) => (g.fields ? g.fields.join(", ") : "all")],
      ["Receive", (g) => el("div", { class: "actions" },
        el("button", { type: "button", "aria-label": `Pull deliveries of ${g.subject}`, onclick: () => pull(session.hub, g, output) }, "Pull deliveries"),
        lookupForm(session.hub, g, output))],
    ], grants, { id: "held-grants" }),
    output,
  );
}

// One subscription per grant, remembered by this browser, read from the earliest record.
async function subscriptionFor(hub, grant) {
  const storageKey = `exchange.subscription.${hub.keyId}.${grant.id}`;
  const known = localStorage.getItem(storageKey);
  if (known) return known;
  const created = await hub.post("/v1/subscriptions", { subject: grant.subject, grant_id: grant.id, from: "earliest" });
  localStorage.setItem(storageKey, created.id);
  return created.id;
}

async function pull(hub, grant, output) {
  const pulled = await attempt(async () => {
    const id = await subscriptionFor(hub, grant);
    return { id, ...(await hub.get(`/v1/subscriptions/${id}/records`, { max: 100, wait_ms: WAIT_MS })) };
  }, "Pulling");
  if (!pulled) return;
  const acknowledge = el("button", {
    type: "button",
    onclick: async () => {
      if (await attempt(() => hub.post(`/v1/subscriptions/${pulled.id}/ack`, { cursor: pulled.cursor }), "Acknowledging")) {
        showStatus(`Acknowledged ${pulled.records.length} deliveries.`, "ok");
        acknowledge.disabled = true;
      }
    },
  }, "Acknowledge");
  showStatus(`${pulled.records.length} deliveries of ${grant.subject}.`, "ok");
  output.replaceChildren(pulled.records.length ? acknowledge : "", deliveries(`Deliveries of ${grant.subject}`, pulled.records));
}

function lookupForm(hub, grant, output) {
  const key = el("input", { type: "text", id: `lookup-${grant.id}`, autocomplete: "off", required: true });
  return el("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const path = `/v1/subjects/${encodeURIComponent(grant.subject)}/records/${encodeURIComponent(key.value)}`;
    const found = await attempt(() => hub.get(path, { grant_id: grant.id }), "Look-up");
    if (found) output.replaceChildren(deliveries(`Latest record of ${key.value}`, [found]));
  } }, field("Record key", key), el("button", { type: "submit", class: "secondary" }, "Look up"));
}

function deliveries(caption, records) {
  return table(caption, [
    ["Key", (r) => r.key],
    ["Record id", (r) => el("code", {}, r.record_id)],
    ["Purpose", (r) => r.purpose],
    ["Payload (granted fields)", (r) => el("pre", {}, JSON.stringify(r.payload, null, 1))],
  ], records, { class: "deliveries" });
}
