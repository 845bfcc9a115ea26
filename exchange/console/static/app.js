// The console: sign-in with a key file, then one page per section, chosen by the URL hash.
import { HubClient } from "./api.js";
import { attempt, showStatus } from "./dom.js";
import { whoAmI } from "./identity.js";
import { loadSigner } from "./signing.js";
import { auditPage } from "./pages/audit.js";
import { cataloguePage } from "./pages/catalogue.js";
import { connectorsPage } from "./pages/connectors.js";
import { grantsPage } from "./pages/grants.js";
import { receivePage } from "./pages/receive.js";

const PAGES = {
  catalogue: cataloguePage,
  grants: grantsPage,
  receive: receivePage,
  connectors: connectorsPage,
  audit: auditPage,
};
const DEFAULT_PAGE = { auditor: "audit", admin: "grants", department: "catalogue" };
const session = { hub: null, me: null };

async function signIn(event) {
  event.preventDefault();
  const file = document.getElementById("key-file").files[0];
  if (!file) return;
  showStatus("Checking the key…");
  const signedIn = await attempt(async () => {
    const hub = new HubClient(await loadSigner(await file.text()));
    session.me = await whoAmI(hub);
    session.hub = hub;
    return true;
  }, "Signing in");
  if (!signedIn) return;
  const { role, name, sections } = session.me;
  document.getElementById("who").textContent =
    `Signed in as ${name} (${role}), key ${session.hub.keyId.slice(0, 12)}…`;
  // A section the role cannot use is not offered (the hub would refuse its calls anyway).
  for (const link of document.querySelectorAll("#nav a")) {
    link.parentElement.hidden = !sections.includes(link.dataset.page);
  }
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("page").hidden = false;
  showStatus("Signed in.", "ok");
  if (!location.hash.startsWith("#/")) location.hash = `#/${DEFAULT_PAGE[role]}`;
  else route();
}

function signOut() {
  // Dropping the only reference to the key is the whole of signing out: nothing is on the server.
  session.hub = null;
  session.me = null;
  location.hash = "";
  location.reload();
}

let latestRender = 0;

// Each page is drawn off-screen and shown only if no later navigation superseded it, so
// two quick navigations never draw two pages into one.
async function route() {
  if (!session.hub) return;
  const ticket = ++latestRender;
  const asked = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  const name = session.me.sections.includes(asked) ? asked : DEFAULT_PAGE[session.me.role];
  const render = PAGES[name];
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const page = document.getElementById("page");
  page.setAttribute("aria-busy", "true");
  const drawn = document.createElement("div");
  await attempt(() => render(drawn, session), `Loading ${name}`);
  if (ticket !== latestRender) return;
  page.replaceChildren(...drawn.childNodes);
  page.dataset.page = name;
  page.removeAttribute("aria-busy");
  document.getElementById("main").focus();
}

document.getElementById("sign-in-form").addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
