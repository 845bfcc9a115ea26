// Audit: the query form of GET /v1/audit with every filter, paged results, an entry's
// detail with its inclusion proof checked in this browser, and activity charts.
import { getPublic } from "../api.js";
import { verifyEntryInCheckpoint, verifyInclusion } from "../audit_proof.js";
import { barChart, decisionsOverTime } from "../charts.js";
import { attempt, el, field, showStatus, table, when } from "../dom.js";

const PAGE_SIZE = 25;
// Preselected in the access report when the hub has it: the demo's subject, which the
// README's walk-through asks about (otherwise the first subject by name).
const REPORT_SUBJECT = "market-regulation.business-licence";
const CHART_ENTRIES = 500;
const TEXT_FILTERS = [
  ["actor", "Actor (department or operator)"],
  ["subject", "Subject"],
  ["action", "Action (e.g. POST /v1/grants)"],
  ["record_id", "Record id"],
  ["key", "Signing key id"],
];

export async function auditPage(page, session) {
  const controls = {};
  for (const [name] of TEXT_FILTERS) controls[name] = el("input", { type: "text", id: `audit-${name}`, name, autocomplete: "off" });
  controls.decision = el("select", { id: "audit-decision", name: "decision" }, ["", "allow", "deny", "error"].map((d) => el("option", { value: d }, d || "any")));
  controls.from = el("input", { type: "datetime-local", id: "audit-from", name: "from", step: "1" });
  controls.to = el("input", { type: "datetime-local", id: "audit-to", name: "to", step: "1" });
  const results = el("div", { id: "audit-results", "aria-live": "polite" });
  const detail = el("section", { id: "audit-entry", "aria-live": "polite", tabindex: "-1" });
  const charts = el("section", { id: "audit-charts", "aria-labelledby": "charts-title" });
  const report = await accessReportSection(session.hub);
  const view = { hub: session.hub, controls, results, detail, charts, cursors: [] };
  const search = () => { view.cursors = []; showPage(view, null); drawCharts(view); };
  page.append(
    el("h2", {}, "Audit log"),
    el("form", { id: "audit-filters", class: "filters", onsubmit: (event) => { event.preventDefault(); search(); } },
      TEXT_FILTERS.map(([name, label]) => field(label, controls[name])),
      field("Decision", controls.decision),
      field("From (inclusive, local time)", controls.from),
      field("To (exclusive, local time)", controls.to),
      el("div", { class: "field buttons" }, el("button", { type: "submit" }, "Search"))),
    results,
    detail,
    report,
    charts,
  );
  search();
}

function filters(controls) {
  const values = {};
  for (const [name, control] of Object.entries(controls)) {
    if (!control.value) continue;
    // datetime-local has no zone: send the instant the user meant, in UTC.
    values[name] = control.type === "datetime-local" ? new Date(control.value).toISOString() : control.value.trim();
  }
  return values;
}

async function showPage(view, cursor) {
  const found = await attempt(() => view.hub.get("/v1/audit", { ...filters(view.controls), limit: PAGE_SIZE, cursor }), "Audit query");
  if (!found) return;
  const { entries, next_cursor: next } = found;
  const older = el("button", { type: "button", class: "secondary", disabled: !next, onclick: () => { view.cursors.push(cursor); showPage(view, next); } }, "Older entries");
  const newer = el("button", { type: "button", class: "secondary", disabled: !view.cursors.length, onclick: () => showPage(view, view.cursors.pop()) }, "Newer entries");
  view.results.replaceChildren(
    table(`Audit entries, newest first${entries.length ? ` (seq ${entries[0].seq} to ${entries[entries.length - 1].seq})` : ""}`, [
      ["Seq", (e) => el("button", { type: "button", class: "link", "aria-label": `Open entry ${e.seq}`, onclick: () => showEntry(view, e) }, String(e.seq))],
      ["At", (e) => when(e.at)],
      ["Actor", (e) => `${e.actor} (${e.actor_role})`],
      ["Action", (e) => el("code", {}, e.action)],
      ["Subject", (e) => e.subject || "—"],
      ["Decision", (e) => el("span", { class: `badge ${e.decision}` }, `${e.decision} ${e.status ?? ""}`)],
      ["Records", (e) => String(e.record_ids.length)],
    ], entries, { id: "audit-table" }),
    el("div", { class: "pager" }, newer, older),
  );
}

async function showEntry(view, entry) {
  const verdict = el("div", { id: "proof", "aria-live": "polite" }, "Checking the inclusion proof in this browser…");
  view.detail.replaceChildren(
    el("h3", {}, `Entry ${entry.seq}`),
    el("dl", { class: "entry" }, Object.entries(entry).flatMap(([name, value]) => [
      el("dt", {}, name),
      el("dd", {}, Array.isArray(value) ? value.join(", ") || "—" : value ?? "—"),
    ])),
    verdict,
  );
  view.detail.focus();
  await checkProof(view.hub, entry, verdict);
}

async function checkProof(hub, entry, verdict) {
  const checkpoint = await attempt(() => hub.get("/v1/audit/checkpoints/latest"), "Fetching the checkpoint");
  if (!checkpoint || checkpoint.tree_size < entry.seq) {
    verdict.replaceChildren(el("p", { class: "pending" }, "No signed checkpoint covers this entry yet; the hub signs the next one shortly. "),
      el("button", { type: "button", class: "secondary", onclick: () => checkProof(hub, entry, verdict) }, "Check again"));
    return;
  }
  const [proof, { keys }] = await Promise.all([
    hub.get(`/v1/audit/entries/${entry.seq}/proof`, { tree_size: checkpoint.tree_size }),
    getPublic("/v1/hub/keys"),
  ]);
  const result = await verifyInclusion(entry, proof, checkpoint, keys);
  verdict.replaceChildren(
    el("p", { id: "proof-verdict", class: result.verified ? "ok" : "error" },
      result.verified
        ? `Verified in this browser: entry ${entry.seq} is in the log of ${checkpoint.tree_size} entries the hub signed at ${when(checkpoint.at)}.`
        : `NOT verified: the proof does not hold for entry ${entry.seq}.`),
    el("ul", { class: "checks" }, result.checks.map((check) => el("li", { class: check.ok ? "ok" : "error" }, `${check.ok ? "✓" : "✗"} ${check.name}`))),
    el("p", {}, "Root hash ", el("code", {}, checkpoint.root_hash)),
  );
  showStatus(result.verified ? `Entry ${entry.seq} verified.` : `Entry ${entry.seq} failed verification.`, result.verified ? "ok" : "error");
}

async function drawCharts(view) {
  const entries = [];
  let cursor = null;
  while (entries.length < CHART_ENTRIES) {
    const found = await attempt(() => view.hub.get("/v1/audit", { ...filters(view.controls), limit: 500, cursor }), "Charts");
    if (!found) return;
    entries.push(...found.entries);
    if (!found.next_cursor) break;
    cursor = found.next_cursor;
  }
  const perActor = {};
  for (const entry of entries) perActor[entry.actor] = (perActor[entry.actor] || 0) + 1;
  view.charts.replaceChildren(
    el("h3", { id: "charts-title" }, `Activity (the ${entries.length} most recent matching entries)`),
    el("div", { class: "charts" },
      el("figure", {}, barChart("Requests per department or operator", perActor), el("figcaption", {}, "Requests per department or operator")),
      el("figure", {}, decisionsOverTime("Requests per decision over time", entries), el("figcaption", {}, "Requests per decision over time"))),
  );
}

// The access report of one record key: which departments received it, when, under which
// grant and purpose, each delivery's audit entry proven in this browser.
async function accessReportSection(hub) {
  const { subjects } = await hub.get("/v1/subjects", { limit: 500 });
  const subject = el("select", { id: "report-subject" }, subjects.map((s) => el("option", { value: s.subject }, s.subject)));
  if (subjects.some((s) => s.subject === REPORT_SUBJECT)) subject.value = REPORT_SUBJECT;
  const key = el("input", { type: "text", id: "report-key", autocomplete: "off", required: true });
  const output = el("div", { id: "access-report", "aria-live": "polite" });
  return el("section", { "aria-labelledby": "report-title" },
    el("h3", { id: "report-title" }, "Access report for a record key"),
    el("form", { id: "report-form", class: "inline", onsubmit: (event) => { event.preventDefault(); showAccessReport(hub, subject.value, key.value.trim(), output); } },
      field("Subject", subject), field("Record key (e.g. a licence's credit code)", key), el("button", { type: "submit" }, "Show who received it")),
    output);
}

async function showAccessReport(hub, subject, key, output) {
  const report = await attempt(() => hub.get(`/v1/subjects/${encodeURIComponent(subject)}/access-report`, { key }), "Access report");
  if (!report) return;
  const { keys } = await getPublic("/v1/hub/keys");
  const proven = await Promise.all(report.accesses.map(async (access) => {
    if (!access.proof || !report.checkpoint) return "not yet in a signed checkpoint";
    const tied = await verifyEntryInCheckpoint(access.proof.entry, access.proof.leaf_index, access.proof.audit_path, report.checkpoint, keys);
    const holds = tied.checks.every((check) => check.ok) && access.proof.entry.seq === access.seq;
    return holds ? "✓ verified in this browser" : "✗ does not verify";
  }));
  output.replaceChildren(
    el("p", {}, `${report.record_ids.length} records with key ${report.key}; received by: ${report.departments.join(", ") || "nobody"}.`),
    table(`Deliveries of ${report.key}`, [
      ["Department", ({ access }) => access.department],
      ["At", ({ access }) => when(access.at)],
      ["How", ({ access }) => access.action],
      ["Purpose", ({ access }) => access.purpose],
      ["Grant", ({ access }) => el("code", {}, (access.grant_id || "").slice(0, 8))],
      ["Audit entry", ({ access }) => String(access.seq)],
      ["Proof", ({ verdict }) => el("span", { class: verdict.startsWith("✓") ? "ok" : verdict.startsWith("✗") ? "error" : "pending" }, verdict)],
    ], report.accesses.map((access, index) => ({ access, verdict: proven[index] })), { id: "report-table" }),
  );
}
