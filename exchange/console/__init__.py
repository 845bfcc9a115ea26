"""The web console: a page served by the hub at `/console` that signs every API call in the
browser (WebCrypto Ed25519, RFC 9421), so the hub keeps one authentication path."""
