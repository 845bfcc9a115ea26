// Checks, in the browser, that an audit entry is in the log the hub signed:
// 1. its RFC 9162 leaf hash, SHA-256(0x00 || JCS(entry)), recomputed from the entry served;
// 2. the inclusion path from that leaf to the checkpoint's root (RFC 9162 2.1.3.2);
// 3. the checkpoint's Ed25519 signature over JCS({tree_size, root_hash, at, key_id}),
//    with the hub key of that key id from GET /v1/hub/keys. See docs/audit.md.
import { canonicalJson } from "./canonical.js";
import { concat, fromBase64url, fromHex, hex, sha256, utf8 } from "./encoding.js";

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export async function leafHash(entry) {
  return hex(await sha256(concat(LEAF, utf8(canonicalJson(entry)))));
}

async function nodeHash(left, right) {
  return sha256(concat(NODE, left, right));
}

// The root the audit path leads to from `leafHashHex`, or null when the path cannot be
// a proof for this index and size (RFC 9162 2.1.3.2, step by step).
export async function rootFromInclusionPath(leafIndex, treeSize, leafHashHex, path) {
  if (leafIndex >= treeSize) return null;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let node = fromHex(leafHashHex);
  for (const siblingHex of path) {
    const sibling = fromHex(siblingHex);
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      node = await nodeHash(sibling, node);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      node = await nodeHash(node, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? hex(node) : null;
}

export async function checkpointSignatureValid(checkpoint, hubKeys) {
  const jwk = hubKeys.find((key) => key.kid === checkpoint.key_id);
  if (!jwk) return false;
  const publicKey = await crypto.subtle.importKey(
    "jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"],
  );
  const signed = canonicalJson({
    tree_size: checkpoint.tree_size,
    root_hash: checkpoint.root_hash,
    at: checkpoint.at,
    key_id: checkpoint.key_id,
  });
  return crypto.subtle.verify({ name: "Ed25519" }, publicKey, fromBase64url(checkpoint.signature), utf8(signed));
}

// The checks that tie an entry, at `leafIndex`, to a signed checkpoint through `auditPath`.
export async function verifyEntryInCheckpoint(entry, leafIndex, auditPath, checkpoint, hubKeys) {
  const recomputedLeaf = await leafHash(entry);
  const root = await rootFromInclusionPath(leafIndex, checkpoint.tree_size, recomputedLeaf, auditPath);
  return {
    leaf: recomputedLeaf,
    root,
    checks: [
      { name: `Audit path (${auditPath.length} hashes) from the entry's recomputed leaf hash leads to the checkpoint's root`, ok: root !== null && root === checkpoint.root_hash },
      { name: `Checkpoint signed by hub key ${checkpoint.key_id.slice(0, 12)}…`, ok: await checkpointSignatureValid(checkpoint, hubKeys) },
    ],
  };
}

// Every check on one entry's inclusion proof, each with its own verdict, so the page can
// say which failed.
export async function verifyInclusion(entry, proof, checkpoint, hubKeys) {
  const tied = await verifyEntryInCheckpoint(entry, proof.leaf_index, proof.audit_path, checkpoint, hubKeys);
  const checks = [
    { name: "Leaf hash recomputed from the entry matches the proof", ok: tied.leaf === proof.leaf_hash },
    { name: "Proof is for this entry and for the checkpoint's tree size", ok: proof.seq === entry.seq && proof.leaf_index === entry.seq - 1 && proof.tree_size === checkpoint.tree_size },
    ...tied.checks,
  ];
  return { verified: checks.every((check) => check.ok), checks, root: tied.root };
}
