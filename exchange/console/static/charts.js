// Inline SVG charts of audit entries: requests per department, and per decision over time.
const SVG = "http://www.w3.org/2000/svg";
const DECISION_CLASSES = { allow: "allow", deny: "deny", error: "error" };

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars, one per label, longest first.
export function barChart(title, counts) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 12);
  const max = Math.max(1, ...rows.map(([, count]) => count));
  const rowHeight = 22;
  const chart = svg("svg", { viewBox: `0 0 400 ${rows.length * rowHeight + 8}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  rows.forEach(([label, count], index) => {
    const y = index * rowHeight + 4;
    chart.append(
      svg("text", { x: 0, y: y + 14, class: "label" }, label.length > 22 ? `${label.slice(0, 21)}…` : label),
      svg("rect", { x: 150, y, width: Math.max(2, (220 * count) / max), height: rowHeight - 6, class: "bar" }),
      svg("text", { x: 155 + (220 * count) / max, y: y + 14, class: "value" }, String(count)),
    );
  });
  return chart;
}

// Stacked columns per time bucket, one colour per decision, with a legend.
export function decisionsOverTime(title, entries, buckets = 12) {
  const times = entries.map((entry) => Date.parse(entry.at));
  const start = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - start + 1);
  const columns = Array.from({ length: buckets }, () => ({ allow: 0, deny: 0, error: 0 }));
  entries.forEach((entry, index) => {
    const bucket = Math.min(buckets - 1, Math.floor(((times[index] - start) / span) * buckets));
    columns[bucket][entry.decision] = (columns[bucket][entry.decision] || 0) + 1;
  });
  const max = Math.max(1, ...columns.map((c) => c.allow + c.deny + c.error));
  const width = 400, height = 160, columnWidth = width / buckets;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 40}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  columns.forEach((column, index) => {
    let top = height;
    for (const decision of ["allow", "deny", "error"]) {
      const size = (height * column[decision]) / max;
      if (!size) continue;
      top -= size;
      const bar = svg("rect", { x: index * columnWidth + 2, y: top, width: columnWidth - 4, height: size, class: DECISION_CLASSES[decision] });
      bar.append(svg("title", {}, `${column[decision]} ${decision}`));
      chart.append(bar);
    }
  });
  const fmt = (ms) => new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  chart.append(
    svg("text", { x: 0, y: height + 16, class: "label" }, entries.length ? fmt(start) : ""),
    svg("text", { x: width, y: height + 16, class: "label", "text-anchor": "end" }, entries.length ? fmt(start + span) : ""),
  );
  ["allow", "deny", "error"].forEach((decision, index) => {
    chart.append(
      svg("rect", { x: index * 90, y: height + 26, width: 12, height: 12, class: decision }),
      svg("text", { x: index * 90 + 16, y: height + 37, class: "label" }, decision),
    );
  });
  return chart;
}
