// Catalogue: subjects with owners, sensitivity and versions; a diff between two versions
// and the hub's compatibility verdict between them (POST /v1/subjects/{s}/compatibility
// with `against_version`).
import { attempt, el, field, table, when } from "../dom.js";
import { schemaDiff } from "../schema_diff.js";

export async function cataloguePage(page, { hub }) {
  const { subjects } = await hub.get("/v1/subjects", { limit: 500 });
  const detail = el("section", { id: "subject-detail", "aria-live": "polite" });
  page.append(
    el("h2", {}, "Catalogue"),
    table("Subjects", [
      ["Subject", (s) => el("button", { type: "button", class: "link", onclick: () => showSubject(hub, s, detail) }, s.subject)],
      ["Title", (s) => s.title],
      ["Owner", (s) => s.owner],
      ["Sensitivity", (s) => el("span", { class: `badge ${s.sensitivity}` }, s.sensitivity)],
      ["Compatibility", (s) => s.compatibility],
      ["Key field", (s) => s.key_field],
      ["Updated", (s) => when(s.updated_at)],
    ], subjects, { id: "subjects" }),
    detail,
  );
}

async function showSubject(hub, subject, detail) {
  const { versions } = await hub.get(`/v1/subjects/${encodeURIComponent(subject.subject)}/versions`);
  const options = () => versions.map((v) => el("option", { value: v.version }, `v${v.version}${v.active ? "" : " (deprecated)"}`));
  const older = el("select", { id: "version-a" }, options());
  const newer = el("select", { id: "version-b" }, options());
  if (versions.length > 1) older.value = String(versions[versions.length - 2].version);
  newer.value = String(versions[versions.length - 1].version);
  const result = el("div", { id: "diff-result", "aria-live": "polite" });
  detail.replaceChildren(
    el("h3", {}, subject.subject),
    el("p", {}, subject.description),
    table("Versions", [
      ["Version", (v) => v.version],
      ["Registered by", (v) => v.registered_by],
      ["Registered", (v) => when(v.created_at)],
      ["State", (v) => (v.active ? "active" : "deprecated")],
      ["Fingerprint", (v) => el("code", {}, v.fingerprint.slice(0, 16) + "…")],
    ], versions),
    el("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); compare(hub, subject, older.value, newer.value, result); } },
      field("From version", older), field("To version", newer), el("button", { type: "submit" }, "Compare")),
    result,
  );
}

async function compare(hub, subject, from, to, result) {
  const base = `/v1/subjects/${encodeURIComponent(subject.subject)}`;
  const [a, b] = await Promise.all([hub.get(`${base}/versions/${from}`), hub.get(`${base}/versions/${to}`)]);
  const changes = schemaDiff(a.schema, b.schema);
  // Judged against "from" alone, not as the subject's next version (that would compare
  // with the latest version, whatever was picked).
  const verdict = await attempt(
    () => hub.post(`${base}/compatibility`, { schema: b.schema, against_version: Number(from) }),
    "Compatibility check",
  );
  result.replaceChildren(
    table(`Changes from v${from} to v${to}`, [
      ["Change", (c) => c.change],
      ["Path", (c) => el("code", {}, c.path)],
      ["From", (c) => el("code", {}, c.before)],
      ["To", (c) => el("code", {}, c.after)],
    ], changes, { id: "diff" }),
    verdict
      ? el("p", { id: "verdict", class: verdict.compatible ? "ok" : "error" },
        `Hub verdict under ${subject.compatibility} (${question(subject.compatibility, from, to)}): `,
        el("strong", { id: "verdict-word" }, verdict.compatible ? "compatible" : "incompatible"),
        verdict.messages.length ? el("ul", {}, verdict.messages.map((m) => el("li", {}, m))) : null)
      : el("p", { id: "verdict" }, "The compatibility verdict is for the subject's owner and administrators."),
  );
}

// The question each level asks of the pair, in words.
function question(level, from, to) {
  const reads = (reader, writer) => `can readers of v${reader} read data written with v${writer}`;
  if (level.startsWith("BACKWARD")) return `${reads(to, from)}?`;
  if (level.startsWith("FORWARD")) return `${reads(from, to)}?`;
  if (level.startsWith("FULL")) return `${reads(to, from)}, and the reverse?`;
  return "no check";
}
