"""`exchange audit`: query and export the log through the API, verify it on the store,
and run the audit writer."""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TextIO

import click
from click._termui_impl import ProgressBar

from exchange.audit.checkpoints import Checkpoint, MalformedCheckpoint, hub_public_keys
from exchange.audit.report_check import proven_accesses, published_keys
from exchange.audit.verify import VerificationReport, verify_log, verify_saved_checkpoint
from exchange.audit.writer import run_writer
from exchange.cli.common import settings_or_exit
from exchange.cli.remote import call, client_for, hub_options
from exchange.client import ExchangeClient
from exchange.config import Settings
from exchange.errors import ServiceUnavailable
from exchange.hub import audit_writer_for
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository
from exchange.transport import open_transport

EXPORT_COLUMNS = (
    "seq", "at", "actor", "actor_role", "key_id", "action", "resource", "subject",
    "decision", "reason", "status", "request_id", "request_digest", "record_ids",
    "purpose", "grant_id",
)  # fmt: skip
# What `audit query` shows of each entry unless asked for JSON (which has every field).
TABLE_COLUMNS = ("seq", "at", "actor", "action", "resource", "decision", "status")
PAGE_SIZE = 500


@click.group(help="Read, export and verify the tamper-evident audit log; run its writer.")
def audit() -> None:
    """The `audit` command group."""


# Each filter: its option, the query parameter of `GET /v1/audit` it sets, its help. The
# signing key id is `--key-id`: `--key` is the caller's own key file (`hub_options`).
FILTERS = (
    ("--actor", "actor", "Only entries by this principal."),
    ("--subject", "subject", "Only entries about this subject."),
    ("--action", "action", "Only this action, e.g. 'POST /v1/departments'."),
    ("--decision", "decision", "allow, deny or error."),
    ("--record-id", "record_id", "Only entries naming this record id."),
    ("--key-id", "key", "Only requests signed with this key id."),
    ("--from", "from", "From this time on (RFC 3339, inclusive)."),
    ("--to", "to", "Before this time (RFC 3339, exclusive)."),
)


def _filter_options(command: Any) -> Any:
    for flag, parameter, help_text in reversed(FILTERS):
        command = click.option(flag, f"filter_{parameter}", help=help_text)(command)
    return command


def _filters(options: dict[str, Any]) -> dict[str, str]:
    return {
        name.removeprefix("filter_"): value
        for name, value in options.items()
        if name.startswith("filter_") and value is not None
    }


@audit.command(
    "query",
    help=(
        "Print one page of matching entries (newest first) as a table, or as JSON Lines "
        "with --json; the cursor of the next page goes to stderr."
    ),
)
@hub_options
@_filter_options
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--cursor", default=None, help="`next_cursor` of the previous page.")
@click.option("--json", "as_json", is_flag=True, help="One JSON entry a line, every field.")
def query(
    url: str, key_file: str, limit: int, cursor: str | None, as_json: bool, **options: Any
) -> None:
    """One page of `GET /v1/audit`."""
    params: dict[str, Any] = {**_filters(options), "limit": limit}
    if cursor:
        params["cursor"] = cursor
    client = client_for(url, key_file)
    page = call(lambda: client.get("/v1/audit", params=params))
    if as_json:
        for entry in page["entries"]:
            click.echo(json.dumps(entry, ensure_ascii=False))
    else:
        click.echo(_table(page["entries"], TABLE_COLUMNS))
    if page["next_cursor"]:
        click.echo(f"more: --cursor {page['next_cursor']}", err=True)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as left-aligned columns under a header, each as wide as its widest cell."""
    cells = [list(columns)] + [["" if r[c] is None else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


@audit.command("export", help="Write every matching entry (newest first) as JSON Lines or CSV.")
@hub_options
@_filter_options
@click.option("--format", "file_format", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option(
    "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout)."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Count the entries written on stderr (default: when stderr is a terminal).",
)
def export(
    url: str,
    key_file: str,
    file_format: str,
    output: TextIO,
    progress: bool | None,
    **options: Any,
) -> None:
    """Page through `GET /v1/audit` and write each page as it arrives."""
    counter = ExportProgress(sys.stderr, _isatty(sys.stderr) if progress is None else progress)
    entries = _all_pages(client_for(url, key_file), _filters(options), counter.page_written)
    if file_format == "csv":
        writer = csv.writer(output)
        writer.writerow(EXPORT_COLUMNS)
        for entry in entries:
            entry["record_ids"] = " ".join(entry["record_ids"])
            writer.writerow(["" if entry[c] is None else entry[c] for c in EXPORT_COLUMNS])
    else:
        for entry in entries:
            output.write(json.dumps(entry, ensure_ascii=False) + "\n")
    counter.done()


def _isatty(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


class ExportProgress:
    """How many entries an export has written so far, on `stream`: rewritten in place on
    a terminal, one line a page otherwise (a log file keeps every line)."""

    def __init__(self, stream: TextIO, shown: bool) -> None:
        self._stream = stream
        self._shown = shown
        self._written = 0
        self._in_place = _isatty(stream)

    def page_written(self, entries: int) -> None:
        """Count a page whose entries have all been written."""
        self._written += entries
        self._show(f"exported {self._written} entries")

    def done(self) -> None:
        """Say the export is complete (and end the line a terminal rewrote)."""
        self._show(f"exported {self._written} entries, done")
        if self._shown and self._in_place:
            click.echo(file=self._stream)

    def _show(self, line: str) -> None:
        if not self._shown:
            return
        if self._in_place:
            click.echo(f"\r{line}", file=self._stream, nl=False)
        else:
            click.echo(line, file=self._stream)


def _all_pages(
    client: ExchangeClient, filters: dict[str, str], page_written: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    """Every matching entry, a page at a time; `page_written(n)` once a page's n entries
    have been consumed."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {**filters, "limit": PAGE_SIZE}
        if cursor:
            params["cursor"] = cursor
        page = call(partial(client.get, "/v1/audit", params=params))
        yield from page["entries"]
        page_written(len(page["entries"]))
        cursor = page["next_cursor"]
        if not cursor:
            return


@audit.command(
    "report",
    help="Who received the records of one key of a subject: when, grant, purpose, proof.",
)
@click.argument("subject")
@click.argument("record_key")
@hub_options
def report(subject: str, record_key: str, url: str, key_file: str) -> None:
    """GET /v1/subjects/{subject}/access-report?key=..., as a table."""
    client = client_for(url, key_file)
    found = call(
        partial(client.get, f"/v1/subjects/{subject}/access-report", params={"key": record_key})
    )
    proven = proven_accesses(found, published_keys(call(partial(client.get, "/v1/hub/keys"))))
    click.echo(f"{subject} {record_key}: {len(found['record_ids'])} record(s)")
    if not found["accesses"]:
        click.echo("no department received them")
    for access, ok in zip(found["accesses"], proven, strict=True):
        proof = "proven in the signed log" if ok else "NOT proven (not yet checkpointed?)"
        click.echo(
            f"{access['at']}  {access['department']:<24} {access['action']:<6} "
            f"grant {access['grant_id']}  purpose {access['purpose']!r}  "
            f"seq {access['seq']}: {proof}"
        )


@audit.command(
    "verify",
    help=(
        "Recompute the audit tree from the store and check every signed checkpoint; exit "
        "1 naming the first bad seq on any edit, deletion, insertion or reordering. With "
        "--checkpoint, also check a checkpoint saved earlier (as served by the API) "
        "against today's log."
    ),
)
@click.option("--database-url", default=None, help="Store URL (default: from settings).")
@click.option(
    "--checkpoint", "checkpoint_file", type=click.File("r", encoding="utf-8"), default=None
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="Processes recomputing leaf hashes on a large log.",
)
def verify(database_url: str | None, checkpoint_file: TextIO | None, jobs: int) -> None:
    """Verify the log on the store directly (no hub needed)."""
    saved = _saved_checkpoint(checkpoint_file) if checkpoint_file else None
    database = Database(database_url or settings_or_exit().effective_database_url)
    try:
        report = _verify(database, saved, jobs)
    finally:
        database.close()
    _print_report(report)
    if not report.ok:
        sys.exit(1)


def _saved_checkpoint(source: TextIO) -> Checkpoint:
    try:
        return Checkpoint.from_json(json.load(source))
    except (ValueError, MalformedCheckpoint) as error:
        raise click.ClickException(f"{source.name}: not a saved checkpoint: {error}") from error


def _verify(database: Database, saved: Checkpoint | None, jobs: int) -> VerificationReport:
    keys = hub_public_keys(database)
    total = AuditRepository(database).count()
    # On stderr, so stdout keeps only the report; click draws no bar when it is no terminal.
    bar: ProgressBar[int] = click.progressbar(length=total, label="verifying", file=sys.stderr)
    with bar:
        if saved is None:
            return verify_log(database, keys, progress=bar.update, workers=jobs)
        return verify_saved_checkpoint(database, keys, saved, progress=bar.update, workers=jobs)


def _print_report(report: VerificationReport) -> None:
    click.echo(
        f"{report.entries} entries, {report.checkpoints} valid checkpoints, "
        f"{report.unsigned_tail} entries after the last checkpoint"
    )
    for finding in report.findings:
        where = f"seq {finding.seq}: " if finding.seq is not None else ""
        click.echo(f"FAIL {finding.kind}: {where}{finding.detail}", err=True)
    if report.ok:
        click.echo("OK: the audit log verifies")
    else:
        click.echo(f"first bad seq: {report.first_bad_seq}", err=True)


@audit.command(
    "writer", help="Run the audit writer: sequence `exchange.audit` into the store until SIGTERM."
)
def writer() -> None:
    """Run the one audit writer of a deployment; restartable, it resumes from its offset."""
    settings = settings_or_exit()
    _run_writer(settings)


# How long the writer waits after its store or transport failed before trying again.
WRITER_RETRY_S = 1.0


def _run_writer(settings: Settings) -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    database = Database(settings.effective_database_url)
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    audit_writer = audit_writer_for(settings, database, transport)
    click.echo(
        "audit writer running; SIGTERM or Ctrl-C signs a last checkpoint and stops", err=True
    )
    try:
        while not stop.is_set():
            try:
                run_writer(audit_writer, stop)
            except ServiceUnavailable as error:
                # Outlive a broker or store outage (as the in-process writer does): the
                # events wait in the topic, and the writer resumes from its offset.
                click.echo(f"audit writer: {error.detail}; retrying", err=True)
                stop.wait(WRITER_RETRY_S)
    finally:
        audit_writer.close()
        transport.close()
        database.close()
    click.echo(f"audit writer stopped at tree size {audit_writer.tree_size}", err=True)
