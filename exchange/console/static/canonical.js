// RFC 8785 JSON Canonicalization Scheme (JCS). ECMAScript's own JSON.stringify already
// serialises strings and numbers as JCS requires; JCS adds member names sorted by their
// UTF-16 code units (JavaScript's default string order) and no whitespace.
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("JCS has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const members = Object.keys(value)
    .filter((name) => value[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canonicalJson(value[name])}`);
  return `{${members.join(",")}}`;
}
