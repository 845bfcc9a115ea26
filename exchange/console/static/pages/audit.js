// Audit: the query form of GET /v1/audit with every filter, paged results, an entry's
// detail with its inclusion proof checked in this browser, and activity charts.
// Live mode re-reads the newest page every few seconds while the newest page is shown and
// no entry is open, adds what is new above the rows already there and into the charts, and
// says how many arrived in a polite live region; it never moves focus. It pauses while the
// tab is hidden. Each read is a signed request, so it is itself an entry in the log.
import { getPublic } from "../api.js";
import { verifyEntryInCheckpoint, verifyInclusion } from "../audit_proof.js";
import { barChart, decisionsOverTime } from "../charts.js";
import { attempt, el, field, showStatus, table, tableRow, when } from "../dom.js";

const PAGE_SIZE = 25;
// Preselected in the access report when the hub has it: the demo's subject, which the
// README's walk-through asks about (otherwise the first subject by name).
const REPORT_SUBJECT = "market-regulation.business-licence";
const CHART_ENTRIES = 500;
// Every read is signed and audited (two entries a minute per open page at 5 s, well
// inside the per-principal rate limit) and the hub signs checkpoints every 10 s in the demo.
const LIVE_EVERY_MS = 5000;
// Newest entries one live read asks for: more than arrive between two reads in the demo.
// When all of them are new, entries may have been skipped and the charts are read again.
const LIVE_READ = 100;
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
  const view = {
    hub: session.hub,
    controls,
    query: {}, // the filters of the last search (not what is being typed)
    results: el("div", { id: "audit-results" }),
    news: el("p", { id: "audit-news", class: "live-news", "aria-live": "polite", "aria-atomic": "true" }),
    detail: el("section", { id: "audit-entry", "aria-live": "polite", tabindex: "-1" }),
    charts: el("section", { id: "audit-charts", "aria-labelledby": "charts-title" }),
    cursors: [], // the cursors of the newer pages, for "Newer entries"
    cursor: null, // the shown page's cursor: null on the newest page
    next: null, // the cursor of the next older page
    shown: [], // the entries in the table, newest first
    chartEntries: null, // the entries the charts count, null while being read
    openSeq: null, // the entry whose detail is open
    drawn: 0, // bumped by each page drawn, so a live read that raced it is dropped
  };
  view.live = liveToggle(view);
  const report = await accessReportSection(session.hub);
  const search = () => {
    view.query = filters(controls);
    view.cursors = [];
    showPage(view, null);
    drawCharts(view);
  };
  page.append(
    el("h2", {}, "Audit log"),
    el("form", { id: "audit-filters", class: "filters", onsubmit: (event) => { event.preventDefault(); search(); } },
      TEXT_FILTERS.map(([name, label]) => field(label, controls[name])),
      field("Decision", controls.decision),
      field("From (inclusive, local time)", controls.from),
      field("To (exclusive, local time)", controls.to),
      el("div", { class: "field buttons" }, el("button", { type: "submit" }, "Search"))),
    view.live.box,
    view.news,
    view.results,
    view.detail,
    report,
    view.charts,
  );
  search();
  keepLive(view);
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

function entryColumns(view) {
  return [
    ["Seq", (e) => el("button", { type: "button", class: "link", "aria-label": `Open entry ${e.seq}`, onclick: () => showEntry(view, e) }, String(e.seq))],
    ["At", (e) => when(e.at)],
    ["Actor", (e) => `${e.actor} (${e.actor_role})`],
    ["Action", (e) => el("code", {}, e.action)],
    ["Subject", (e) => e.subject || "—"],
    ["Decision", (e) => el("span", { class: `badge ${e.decision}` }, `${e.decision} ${e.status ?? ""}`)],
    ["Records", (e) => String(e.record_ids.length)],
  ];
}

function caption(entries) {
  return `Audit entries, newest first${entries.length ? ` (seq ${entries[0].seq} to ${entries[entries.length - 1].seq})` : ""}`;
}

async function showPage(view, cursor) {
  const drawn = ++view.drawn;
  const found = await attempt(() => view.hub.get("/v1/audit", { ...view.query, limit: PAGE_SIZE, cursor }), "Audit query");
  if (!found || drawn !== view.drawn) return;
  const { entries, next_cursor: next } = found;
  Object.assign(view, { cursor, next, shown: entries });
  view.older = el("button", { type: "button", class: "secondary", disabled: !next, onclick: () => { view.cursors.push(view.cursor); showPage(view, view.next); } }, "Older entries");
  const newer = el("button", { type: "button", class: "secondary", disabled: !view.cursors.length, onclick: () => showPage(view, view.cursors.pop()) }, "Newer entries");
  view.results.replaceChildren(
    table(caption(entries), entryColumns(view), entries, { id: "audit-table" }),
    el("div", { class: "pager" }, newer, view.older),
  );
  view.news.textContent = entries.length ? `Showing entries ${entries[0].seq} to ${entries[entries.length - 1].seq}.` : "No entries match.";
  if (cursor === null) restartLive(view);
  else showLiveState(view);
}

async function showEntry(view, entry) {
  const verdict = el("div", { id: "proof", "aria-live": "polite" }, "Checking the inclusion proof in this browser…");
  view.openSeq = entry.seq;
  showLiveState(view);
  view.detail.replaceChildren(
    el("h3", {}, `Entry ${entry.seq}`),
    el("button", { type: "button", class: "secondary", id: "close-entry", onclick: () => closeEntry(view) }, "Close entry"),
    el("dl", { class: "entry" }, Object.entries(entry).flatMap(([name, value]) => [
      el("dt", {}, name),
      el("dd", {}, Array.isArray(value) ? value.join(", ") || "—" : value ?? "—"),
    ])),
    verdict,
  );
  view.detail.focus();
  await checkProof(view.hub, entry, verdict);
}

// Back to the entry's row (or the results when it has gone), and live again if wanted.
function closeEntry(view) {
  const seq = view.openSeq;
  view.openSeq = null;
  view.detail.replaceChildren();
  const opener = view.results.querySelector(`button[aria-label="Open entry ${seq}"]`);
  (opener || view.results.querySelector(".table-box"))?.focus();
  wakeLive(view);
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
  view.chartEntries = null;
  const query = view.query;
  const entries = [];
  let cursor = null;
  while (entries.length < CHART_ENTRIES) {
    const found = await attempt(() => view.hub.get("/v1/audit", { ...query, limit: 500, cursor }), "Charts");
    if (!found) return;
    entries.push(...found.entries);
    if (!found.next_cursor) break;
    cursor = found.next_cursor;
  }
  if (query !== view.query) return; // a later search draws its own
  view.chartEntries = entries.slice(0, CHART_ENTRIES);
  paintCharts(view);
}

function paintCharts(view) {
  const entries = view.chartEntries;
  const perActor = {};
  for (const entry of entries) perActor[entry.actor] = (perActor[entry.actor] || 0) + 1;
  view.charts.replaceChildren(
    el("h3", { id: "charts-title" }, `Activity (the ${entries.length} most recent matching entries)`),
    el("div", { class: "charts" },
      el("figure", {}, barChart("Requests per department or operator", perActor), el("figcaption", {}, "Requests per department or operator")),
      el("figure", {}, decisionsOverTime("Requests per decision over time", entries), el("figcaption", {}, "Requests per decision over time"))),
  );
}

// ---- Live mode ----

function liveToggle(view) {
  const checkbox = el("input", { type: "checkbox", id: "audit-live", checked: true, "aria-describedby": "audit-live-state", onchange: () => wakeLive(view) });
  const state = el("span", { id: "audit-live-state", class: "live-state" });
  const box = el("div", { class: "live" }, checkbox,
    el("label", { for: "audit-live" }, `Live: show new entries every ${LIVE_EVERY_MS / 1000} s`), state);
  return { box, checkbox, state, timer: null, reading: false };
}

// Why live reads are not happening now, or null when they are.
function pausedBecause(view) {
  if (!view.live.checkbox.checked) return "Off.";
  if (document.visibilityState !== "visible") return "Paused while this tab is hidden.";
  if (view.openSeq !== null) return `Paused while entry ${view.openSeq} is open; close it to resume.`;
  if (view.cursor !== null) return "Paused on older entries; it resumes on the newest page.";
  return null;
}

function showLiveState(view, text) {
  view.live.state.textContent = text ?? pausedBecause(view) ?? "Waiting for the next read…";
}

function clock() {
  return new Date().toLocaleTimeString();
}

// Reads every LIVE_EVERY_MS until the page leaves the document (another section, sign-out).
function keepLive(view) {
  const onVisibility = () => {
    if (!view.results.isConnected) return; // not drawn yet, or gone: the step removes this
    if (document.visibilityState === "visible") wakeLive(view);
    else showLiveState(view);
  };
  document.addEventListener("visibilitychange", onVisibility);
  view.live.step = async () => {
    if (!view.results.isConnected) {
      document.removeEventListener("visibilitychange", onVisibility);
      return;
    }
    view.live.reading = true;
    try {
      await readLive(view);
    } finally {
      view.live.reading = false;
    }
    view.live.timer = setTimeout(view.live.step, LIVE_EVERY_MS);
  };
  view.live.timer = setTimeout(view.live.step, LIVE_EVERY_MS);
}

// Read now (the toggle turned on, an entry closed, the tab shown again) rather than at the
// next tick; a read under way already counts.
function wakeLive(view) {
  showLiveState(view);
  if (!view.live.step || view.live.reading) return;
  clearTimeout(view.live.timer);
  view.live.step();
}

// The newest page was just drawn: the next read is a full interval away.
function restartLive(view) {
  showLiveState(view);
  if (!view.live.step || view.live.reading) return;
  clearTimeout(view.live.timer);
  view.live.timer = setTimeout(view.live.step, LIVE_EVERY_MS);
}

async function readLive(view) {
  const paused = pausedBecause(view);
  if (paused) return showLiveState(view, paused);
  const drawn = view.drawn;
  let found;
  try {
    found = await view.hub.get("/v1/audit", { ...view.query, limit: LIVE_READ });
  } catch (error) {
    return showLiveState(view, `Reading failed at ${clock()} (${error.message}); trying again in ${LIVE_EVERY_MS / 1000} s.`);
  }
  // The user moved on (another page, a search, an entry) while the answer was on its way.
  if (drawn !== view.drawn || pausedBecause(view)) return showLiveState(view);
  showLiveState(view, `Read at ${clock()}.`);
  const newest = view.shown.length ? view.shown[0].seq : 0;
  const fresh = found.entries.filter((entry) => entry.seq > newest);
  if (!fresh.length || !prependEntries(view, fresh)) return;
  const skipped = fresh.length === found.entries.length && found.next_cursor !== null;
  updateCharts(view, found.entries, skipped);
  view.news.textContent = `${fresh.length} new ${fresh.length === 1 ? "entry" : "entries"} at ${clock()}.`;
}

// New rows go above the others (marked until the next read); the table keeps PAGE_SIZE
// rows, so the oldest drop off the bottom and "Older entries" starts after the last kept.
// False when there is no table to add to (the page's own query failed).
function prependEntries(view, fresh) {
  const body = view.results.querySelector("#audit-table tbody");
  if (!body) return false;
  if (!view.shown.length) body.replaceChildren(); // the "Nothing to show." row
  for (const row of body.querySelectorAll("tr.fresh")) row.classList.remove("fresh");
  const columns = entryColumns(view);
  body.prepend(...fresh.slice(0, PAGE_SIZE).map((entry) => {
    const row = tableRow(columns, entry);
    row.classList.add("fresh");
    return row;
  }));
  while (body.rows.length > PAGE_SIZE) body.lastElementChild.remove();
  const combined = [...fresh, ...view.shown];
  view.shown = combined.slice(0, PAGE_SIZE);
  view.next = combined.length > PAGE_SIZE || view.next !== null ? String(view.shown[view.shown.length - 1].seq) : null;
  view.older.disabled = !view.next;
  const text = caption(view.shown);
  body.closest("table").caption.textContent = text;
  body.closest(".table-box").setAttribute("aria-label", text);
  return true;
}

function updateCharts(view, newestFirst, skipped) {
  if (view.chartEntries === null) return; // being read whole: that read includes these
  if (skipped) {
    drawCharts(view);
    return;
  }
  const counted = view.chartEntries.length ? view.chartEntries[0].seq : 0;
  const fresh = newestFirst.filter((entry) => entry.seq > counted);
  if (!fresh.length) return;
  view.chartEntries = [...fresh, ...view.chartEntries].slice(0, CHART_ENTRIES);
  paintCharts(view);
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
