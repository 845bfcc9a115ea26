"""`exchange audit query` and `exchange audit export` against an embedded hub served over
real HTTP: a table or JSON Lines, every matching entry exported, progress on stderr."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.cli.audit import TABLE_COLUMNS
from exchange.identity.keys import write_private_key
from tests.support.live_server import serving
from tests.support.signed_client import onboard_department, onboard_operator

LOOKUPS = 7


@pytest.fixture
def hub_url(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def auditor(admin):
    return onboard_operator(admin, "inspector", "auditor")


@pytest.fixture
def run(hub_url, auditor, tmp_path):
    key_file = tmp_path / "inspector.pem"
    write_private_key(key_file, auditor.private_key)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["audit", *args, "--url", hub_url, "--key", str(key_file)])

    return invoke


@pytest.fixture
def tax(admin):
    tax = onboard_department(admin, "tax")
    for _ in range(LOOKUPS):
        assert tax.get("/v1/departments/tax").status_code == 200
    return tax


def api_entries(auditor, **params):
    response = auditor.get("/v1/audit", params={"limit": 500} | params)
    assert response.status_code == 200
    return response.get_json()["entries"]


def test_query_prints_a_table_of_the_page(run, auditor, tax):
    result = run("query", "--actor", "tax", "--limit", "5")

    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == list(TABLE_COLUMNS)
    expected = api_entries(auditor, actor="tax")[:5]
    assert [row.split()[0] for row in rows] == [str(e["seq"]) for e in expected]
    first = rows[0].split()
    assert first[2:] == [
        "tax",
        "GET",
        "/v1/departments/<code>",
        "/v1/departments/tax",
        "allow",
        "200",
    ]
    assert f"--cursor {expected[-1]['seq']}" in result.stderr


def test_query_with_json_prints_one_entry_a_line_with_every_field(run, auditor, tax):
    result = run("query", "--actor", "tax", "--json", "--limit", "500")

    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == api_entries(auditor, actor="tax")
    assert result.stderr == ""


def test_export_writes_every_match_and_counts_them_on_stderr(run, auditor, tax, tmp_path):
    output = tmp_path / "audit.jsonl"

    result = run("export", "--actor", "tax", "--output", str(output), "--progress")

    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in output.read_text().splitlines()]
    assert exported == api_entries(auditor, actor="tax")
    assert len(exported) == LOOKUPS
    assert result.stderr.splitlines() == [
        f"exported {LOOKUPS} entries",
        f"exported {LOOKUPS} entries, done",
    ]


def test_export_as_csv_without_a_terminal_prints_no_progress(run, auditor, tax, tmp_path):
    output = tmp_path / "audit.csv"

    result = run("export", f"--key-id={tax.key_id}", "--format", "csv", "--output", str(output))

    assert result.exit_code == 0, result.output
    with output.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["seq"]) for row in rows] == [
        e["seq"] for e in api_entries(auditor, key=tax.key_id)
    ]
    assert len(rows) == LOOKUPS
    assert result.stderr == ""
