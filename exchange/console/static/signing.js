// RFC 9421 request signing in the browser, the hub's profile (docs/signing.md):
// label sig1, alg "ed25519", tag "exchange", covering @method and @target-uri, plus
// content-digest (RFC 9530) and content-type when there is a body.
import { base64, base64url, fromBase64, sha256, utf8 } from "./encoding.js";

const PEM_PRIVATE_KEY = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/;
const ED25519 = { name: "Ed25519" };

// A key's id is its RFC 7638 JWK thumbprint: SHA-256 over the members in this exact order.
async function keyIdOf(x) {
  return base64url(await sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}

// Reads a PKCS#8 PEM Ed25519 private key. The signing key is imported non-extractable;
// a throwaway extractable copy gives the public half for the key id.
export async function loadSigner(pemText) {
  const match = PEM_PRIVATE_KEY.exec(pemText);
  if (!match) throw new Error("not a PKCS#8 PEM private key (expected -----BEGIN PRIVATE KEY-----)");
  const der = fromBase64(match[1].replace(/\s+/g, ""));
  const exportable = await crypto.subtle.importKey("pkcs8", der, ED25519, true, ["sign"]);
  const { x } = await crypto.subtle.exportKey("jwk", exportable);
  const privateKey = await crypto.subtle.importKey("pkcs8", der, ED25519, false, ["sign"]);
  return { privateKey, keyId: await keyIdOf(x) };
}

function nonce() {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

// The headers to send with a request to `url` (absolute, exactly as fetch will send it).
export async function signatureHeaders(signer, method, url, body, contentType) {
  const headers = {};
  const lines = [`"@method": ${method}`, `"@target-uri": ${url}`];
  let components = '"@method" "@target-uri"';
  if (body && body.length) {
    const digest = `sha-256=:${base64(await sha256(body))}:`;
    headers["Content-Type"] = contentType;
    headers["Content-Digest"] = digest;
    lines.push(`"content-digest": ${digest}`, `"content-type": ${contentType}`);
    components += ' "content-digest" "content-type"';
  }
  const created = Math.floor(Date.now() / 1000);
  const params =
    `(${components});created=${created};keyid="${signer.keyId}"` +
    `;alg="ed25519";nonce="${nonce()}";tag="exchange"`;
  lines.push(`"@signature-params": ${params}`);
  const signature = await crypto.subtle.sign(ED25519, signer.privateKey, utf8(lines.join("\n")));
  headers["Signature-Input"] = `sig1=${params}`;
  headers["Signature"] = `sig1=:${base64(signature)}:`;
  return headers;
}
