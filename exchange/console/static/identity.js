// Who the chosen key belongs to. The hub has no "who am I" endpoint, so the page asks what
// the key may do: administrators may not read the audit log, auditors may not list
// connectors; a department or auditor reads its own name from the audit entry of a call
// it just made with this key.
import { ProblemError } from "./api.js";

const NAME_DEADLINE_MS = 5000;

async function refused(call) {
  try {
    await call();
    return false;
  } catch (error) {
    if (error instanceof ProblemError && error.status === 403) return true;
    throw error;
  }
}

async function nameFromAudit(hub) {
  const deadline = Date.now() + NAME_DEADLINE_MS;
  // With Kafka the audit writer stores entries a moment after the answer: poll briefly.
  while (Date.now() < deadline) {
    const { entries } = await hub.get("/v1/audit", { key: hub.keyId, limit: 1 });
    if (entries.length) return entries[0].actor;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return null;
}

export async function whoAmI(hub) {
  if (await refused(() => hub.get("/v1/audit", { limit: 1 }))) {
    return { role: "admin", name: null };
  }
  const role = (await refused(() => hub.get("/v1/connectors", { limit: 1 }))) ? "auditor" : "department";
  return { role, name: await nameFromAudit(hub) };
}
