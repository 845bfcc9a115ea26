"""The benchmark harness of the hub (`python -m bench`, `make bench`).

It starts what it needs (Kafka, PostgreSQL, the hub under gunicorn with its production
settings, the audit writer), drives load from this process over 127.0.0.1 only, and writes
a JSON result and a Markdown table to `bench/results/`. Every figure stands beside a
reference measured in the same run, as a ratio, because absolute numbers drift on a
shared machine.
"""
