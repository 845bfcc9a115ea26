// Small helpers to build the page from data without ever parsing strings as HTML.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A table with a caption and column headers; `columns` are [heading, cell(row)] pairs.
// Wide tables scroll inside their own box on a phone instead of widening the page.
export function table(caption, columns, rows, attributes = {}) {
  const head = el("tr", {}, columns.map(([heading]) => el("th", { scope: "col" }, heading)));
  const body = rows.length
    ? rows.map((row) => tableRow(columns, row))
    : [el("tr", {}, el("td", { colspan: columns.length }, "Nothing to show."))];
  return el("div", { class: "table-box", tabindex: "0", role: "region", "aria-label": caption },
    el("table", attributes, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, body)));
}

// One body row of such a table, for a page that adds rows to a table it drew.
export function tableRow(columns, row) {
  return el("tr", {}, columns.map(([, cell]) => el("td", {}, cell(row))));
}

export function field(label, control) {
  const id = control.id || `field-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control);
}

export function when(moment) {
  return moment ? new Date(moment).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";
}

export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  status.className = `status ${kind}`;
  status.textContent = message;
}

// Runs an action, reporting a refused or failed call (problem detail) in the status line.
export async function attempt(action, doing) {
  try {
    return await action();
  } catch (error) {
    showStatus(`${doing} failed: ${error.message}`, "error");
    return undefined;
  }
}
