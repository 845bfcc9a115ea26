"""`exchange demo`: seed the fictional province, regenerate its data, or run the whole demo
(what `make run` does)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

import exchange
from exchange.cli.common import settings_or_exit
from exchange.client import ExchangeAPIError
from exchange.config import Settings
from exchange.demo import province
from exchange.demo.licences import (
    DATA_SEED,
    FIRST_COUNT,
    FIRST_FILE,
    SECOND_COUNT,
    SECOND_FILE,
    credit_code,
    generate_licences,
    write_csv,
)
from exchange.demo.processes import DemoProcesses, wait_until_ready
from exchange.demo.progress import Progress, read_progress, watch
from exchange.demo.seed import DemoPaths, DemoSeeder, SeedReport
from exchange.errors import ExchangeError

REPOSITORY = Path(exchange.__file__).resolve().parents[1]
PROGRESS_DEADLINE_S = 300.0
DEFAULT_CLI_URL = "http://127.0.0.1:8080"


@click.group("demo", help="The demo: a small, fictional province on this hub.")
def demo() -> None:
    """Commands of the demo."""


def _paths(settings: Settings, repository: Path) -> DemoPaths:
    return DemoPaths(repository, settings.keys_dir, settings.connector_root)


def _hub_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


def _seed(settings: Settings, url: str, repository: Path) -> tuple[DemoSeeder, SeedReport]:
    seeder = DemoSeeder(url, settings.keys_dir / "admin.pem", _paths(settings, repository))
    try:
        return seeder, seeder.seed()
    except ExchangeError as error:
        raise click.ClickException(error.detail) from error
    except ExchangeAPIError as error:
        raise click.ClickException(f"the hub refused a seeding step: {error}") from error


def _print_seeded(report: SeedReport) -> None:
    if report.created:
        click.echo("demo seeded: " + ", ".join(report.created))
    else:
        click.echo("demo already seeded: nothing new created")
    for name, key_file in report.key_files.items():
        click.echo(f"  key of {name}: {key_file}")
    for dropped in report.files_dropped:
        click.echo(f"  dropped {dropped} into the licence inbox")


@demo.command("seed", help="Put the fictional province on the running hub (idempotent).")
@click.option("--url", envvar="EXCHANGE_URL", default=None, help="The hub (default: settings).")
@click.option(
    "--repository",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPOSITORY,
    show_default=True,
    help="Where schemas/ and demo/ are.",
)
def seed(url: str | None, repository: Path) -> None:
    """Seed through the API as the first administrator and the demo departments."""
    settings = settings_or_exit()
    _seeder, report = _seed(settings, url or _hub_url(settings), repository)
    _print_seeded(report)


@demo.command("generate", help="Regenerate the shipped demo CSVs (deterministic).")
@click.option(
    "--repository",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPOSITORY,
    show_default=True,
)
def generate(repository: Path) -> None:
    """Write the licences the demo ships: the first inbox file and one more to drop in."""
    rows = list(generate_licences(FIRST_COUNT + SECOND_COUNT, DATA_SEED))
    click.echo(write_csv(rows[:FIRST_COUNT], repository / FIRST_FILE))
    click.echo(write_csv(rows[FIRST_COUNT:], repository / SECOND_FILE))


@demo.command("run", help="Serve the hub, seed the demo, run the connectors, show progress.")
def run() -> None:
    """What `make run` does after `exchange init`; stops everything on Ctrl-C or SIGTERM.

    The children's own output goes to `<data_dir>/log/{serve,connect}.log`, so the terminal
    shows only the demo's steps, its progress line and the guide.
    """
    settings = settings_or_exit()
    url = _hub_url(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with DemoProcesses(settings.data_dir / "log") as processes:
        serve_log = processes.start("serve", "serve")
        click.echo(f"hub starting on {url} (its log: {serve_log})")
        try:
            wait_until_ready(url)
        except ExchangeError as error:
            raise click.ClickException(f"{error.detail}; see {serve_log}") from error
        seeder, report = _seed(settings, url, REPOSITORY)
        _print_seeded(report)
        connect_log = processes.start("connect", "connect", "--url", url)
        click.echo(f"connector worker started (its log: {connect_log})")
        progress = watch(
            lambda: read_progress(
                seeder.department("market-regulation"),
                seeder.department("taxation"),
                report.licences_shipped,
            ),
            _ProgressLine(),
            PROGRESS_DEADLINE_S,
            interrupted=lambda: stop.is_set() or processes.exited() is not None,
        )
        click.echo()
        _stop_if_a_child_stopped(processes)
        if not stop.is_set():
            click.echo(guide(settings, url, report, progress, (serve_log, connect_log)))
        while not stop.wait(1.0):
            _stop_if_a_child_stopped(processes)


def _stop_if_a_child_stopped(processes: DemoProcesses) -> None:
    stopped = processes.exited()
    if stopped is not None:
        raise click.ClickException(
            f"the demo's {stopped!r} process stopped; see {processes.log_of(stopped)}"
        )


class _ProgressLine:
    """Rewrites one terminal line in place, and only when it changes."""

    def __init__(self) -> None:
        self._last = ""

    def __call__(self, progress: Progress) -> None:
        line = progress.line()
        if line != self._last:
            sys.stdout.write("\r" + line + ("\n" if progress.done else ""))
            sys.stdout.flush()
            self._last = line


def guide(
    settings: Settings,
    url: str,
    report: SeedReport,
    progress: Progress,
    logs: tuple[Path, ...] = (),
) -> str:
    """What to look at now, with the paths, keys and hub URL of this machine."""
    inbox = settings.connector_root / province.INBOX
    outbox = settings.connector_root / province.OUTBOX
    auditor_key = report.key_files.get(province.AUDITOR)
    market_key = report.key_files.get("market-regulation")
    # The CLI's default hub is http://127.0.0.1:8080; any other must be named.
    url_option = "" if url == DEFAULT_CLI_URL else f" --url {url}"
    lines = [
        f"The demo is up: {progress.delivered} licences delivered to tax. Look at:",
        f"  console     {url}/console  (sign in with {auditor_key} as the auditor,",
        f"              or {market_key} as market regulation)",
        f"  outbox      ls {outbox}/  (the tax department's deliveries, JSON Lines)",
        "  audit       .venv/bin/exchange audit verify",
        f"  report      .venv/bin/exchange audit report {province.LICENCE_SUBJECT} "
        f"{credit_code(1)} --key {auditor_key}{url_option}",
        f"  more data   cp {SECOND_FILE} {inbox}/  (its 60 licences move too)",
    ]
    if logs:
        lines.append(f"  logs        {', '.join(str(log) for log in logs)}")
    lines.append("Ctrl-C stops the hub and the connector worker.")
    return "\n".join(lines)
