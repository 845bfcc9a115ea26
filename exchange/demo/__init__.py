"""The demo: a small, clearly fictional province seeded onto a hub through its API, the
generator of its shipped data (`demo/`), and the `make run` supervisor that shows records
moving end to end."""
