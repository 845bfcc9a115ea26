"""Identity: Ed25519 keys, RFC 9421 request signatures, and the directory of principals.

`keys` and `signatures` are pure domain code (no Flask, no store); `directory` holds
the use cases that register principals and their keys.
"""
