// Departments and grants: who may receive what, for which purpose, until when; the owner
// of a subject (or an administrator) approves, rejects and revokes from here.
import { attempt, el, field, showStatus, table, when } from "../dom.js";

const STATUSES = ["", "pending", "approved", "rejected", "revoked", "expired"];

export async function grantsPage(page, session) {
  const { hub } = session;
  const { departments } = await hub.get("/v1/departments", { limit: 500 });
  const status = el("select", { id: "grant-status" }, STATUSES.map((s) => el("option", { value: s }, s || "any")));
  const subject = el("input", { id: "grant-subject", type: "text", autocomplete: "off" });
  const consumer = el("input", { id: "grant-consumer", type: "text", autocomplete: "off" });
  const results = el("div", { id: "grant-results", "aria-live": "polite" });
  const load = () => listGrants(session, { status: status.value, subject: subject.value, consumer: consumer.value }, results);
  page.append(
    el("h2", {}, "Departments & grants"),
    table("Departments", [
      ["Code", (d) => d.code],
      ["Name", (d) => d.name],
      ["Contact", (d) => d.contact],
    ], departments, { id: "departments" }),
    el("h3", {}, "Grants"),
    el("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); load(); } },
      field("Status", status), field("Subject", subject), field("Consumer", consumer),
      el("button", { type: "submit" }, "Show grants")),
    results,
  );
  await load();
}

async function listGrants(session, filters, results) {
  const { grants } = await session.hub.get("/v1/grants", { ...filters, limit: 500 });
  const refresh = () => listGrants(session, filters, results);
  results.replaceChildren(table("Grants: who may receive what, for which purpose, until when", [
    ["Consumer", (g) => g.consumer],
    ["Subject", (g) => g.subject],
    ["Owner", (g) => g.owner],
    ["Purpose", (g) => g.purpose],
    ["Fields", (g) => (g.fields ? g.fields.join(", ") : "all")],
    ["Until", (g) => (g.expires_at ? when(g.expires_at) : "no expiry")],
    ["Status", (g) => el("span", { class: `badge ${g.status}` }, g.status)],
    ["Actions", (g) => actions(session, g, refresh)],
  ], grants, { id: "grants" }));
}

function actions(session, grant, refresh) {
  const { me, hub } = session;
  const decides = me.role === "admin" || (me.role === "department" && me.name === grant.owner);
  const revokes = decides || (me.role === "department" && me.name === grant.consumer);
  const act = (label, method, path) =>
    el("button", {
      type: "button",
      class: label === "Approve" ? "" : "secondary",
      "aria-label": `${label} grant of ${grant.subject} to ${grant.consumer}`,
      onclick: async () => {
        const done = await attempt(() => hub.request(method, path), `${label} grant`);
        if (done) {
          showStatus(`Grant ${grant.id.slice(0, 8)}… is now ${done.status}.`, "ok");
          await refresh();
        }
      },
    }, label);
  const buttons = [];
  if (grant.status === "pending" && decides) {
    buttons.push(
      act("Approve", "POST", `/v1/grants/${grant.id}/approve`),
      act("Reject", "POST", `/v1/grants/${grant.id}/reject`),
      narrowedApproval(session, grant, refresh),
    );
  }
  if (grant.status === "approved" && revokes) buttons.push(act("Revoke", "DELETE", `/v1/grants/${grant.id}`));
  return buttons.length ? el("div", { class: "actions" }, buttons) : "—";
}

// Approval with fewer fields or an earlier expiry than the consumer asked for.
function narrowedApproval(session, grant, refresh) {
  const fields = el("input", { type: "text", id: `narrow-fields-${grant.id}`, value: (grant.fields || []).join(", "), autocomplete: "off" });
  const expiry = el("input", { type: "datetime-local", id: `narrow-expiry-${grant.id}` });
  const submit = async (event) => {
    event.preventDefault();
    const terms = {};
    const pointers = fields.value.split(",").map((pointer) => pointer.trim()).filter(Boolean);
    if (pointers.length) terms.fields = pointers;
    if (expiry.value) terms.expires_at = new Date(expiry.value).toISOString();
    const done = await attempt(() => session.hub.post(`/v1/grants/${grant.id}/approve`, terms), "Approve grant");
    if (done) {
      showStatus(`Grant ${grant.id.slice(0, 8)}… approved with narrowed terms.`, "ok");
      await refresh();
    }
  };
  return el("details", { class: "narrow" },
    el("summary", {}, "Narrow…"),
    el("form", { onsubmit: submit },
      field("Fields (JSON Pointers, comma-separated)", fields),
      field("Expires (local time)", expiry),
      el("button", { type: "submit" }, "Approve narrowed")));
}
