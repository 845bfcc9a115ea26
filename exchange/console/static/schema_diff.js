// A path-by-path structural diff of two JSON Schemas, for reading what changed between
// versions. Whether a change is compatible is the hub's call (its named rules), not this.
export function schemaDiff(before, after, path = "") {
  if (isObject(before) && isObject(after)) {
    const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return names.flatMap((name) => {
      const child = `${path}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      if (!(name in before)) return [{ change: "added", path: child, before: "", after: show(after[name]) }];
      if (!(name in after)) return [{ change: "removed", path: child, before: show(before[name]), after: "" }];
      return schemaDiff(before[name], after[name], child);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ change: "changed", path: path || "/", before: show(before), after: show(after) }];
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function show(value) {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
