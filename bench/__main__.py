"""`python -m bench`: run the benchmarks and write `bench/results/<label>-<time>.{json,md}`."""

from __future__ import annotations

from pathlib import Path

import click

from bench.options import FULL, SMOKE
from bench.report import write_result
from bench.run import run_bench


@click.command(
    help=(
        "Benchmark the hub: publish throughput and end-to-end latency against raw "
        "kafka-python, per-record cost against bare primitives, the audit log at scale, "
        "and memory. Starts its own Kafka broker (and PostgreSQL if needed), serves the hub "
        "under gunicorn on 127.0.0.1, and writes JSON and Markdown to bench/results/."
    )
)
@click.option("--smoke", is_flag=True, help="Tiny sizes: seconds, for the test suite.")
@click.option(
    "--database", type=click.Choice(["sqlite", "postgres"]), default=None,
    help="Store of the served hub (full run: postgres).",
)  # fmt: skip
@click.option("--threads", type=int, default=None, help="Client threads of the publish load.")
@click.option("--hub-workers", type=int, default=None, help="gunicorn workers of the hub.")
@click.option("--publish-budget-s", type=float, default=None, help="Time bound per measurement.")
@click.option("--latency-seconds", type=float, default=None, help="Length of each latency run.")
@click.option("--audit-entries", type=int, default=None, help="Size of the audit log (1,000,000).")
@click.option(
    "--audit-databases", default=None,
    help="Comma-separated stores for the audit log (sqlite,postgres); verify runs on the first.",
)  # fmt: skip
@click.option("--kafka-port", type=int, default=None, help="Port of the bench's own broker.")
@click.option(
    "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where to write the results (bench/results).",
)  # fmt: skip
def main(smoke: bool, audit_databases: str | None, **overrides: object) -> None:
    """Run the benchmarks once and print the summary."""
    base = SMOKE if smoke else FULL
    if audit_databases:
        overrides["audit_databases"] = tuple(
            kind.strip() for kind in audit_databases.split(",") if kind.strip()
        )
    options = base.with_changes(**overrides)
    result, rows = run_bench(options)
    json_path, markdown_path = write_result(options.output_dir, options.label, result, rows)
    for name, value in result["summary"].items():
        click.echo(f"{name}: {value:.3f}")
    click.echo(f"wrote {json_path} and {markdown_path}")


if __name__ == "__main__":
    main()
