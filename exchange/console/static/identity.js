// Who the chosen key belongs to, and which sections that principal can use.
// `GET /v1/whoami` answers any registered key, so signing in provokes no refusal (and no
// denied entry in the audit log).

// Sections each role may use, by what the hub allows it: administrators may not read the
// audit log nor pull deliveries, auditors may not manage connectors nor pull deliveries.
const SECTIONS = {
  admin: ["catalogue", "grants", "connectors"],
  auditor: ["catalogue", "grants", "audit"],
  department: ["catalogue", "grants", "receive", "connectors", "audit"],
};

export async function whoAmI(hub) {
  const { name, role } = await hub.get("/v1/whoami");
  return { name, role, sections: SECTIONS[role] || ["catalogue"] };
}
