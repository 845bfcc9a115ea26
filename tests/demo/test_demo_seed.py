"""`exchange demo seed` against a hub served over HTTP, and the demo's licences moving end to
end through the file source and the file sink run by a real connector worker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from exchange.config import Settings, load_settings
from exchange.connect.process import WorkerProcess
from exchange.demo import province
from exchange.demo.progress import read_progress
from exchange.demo.seed import DemoPaths, DemoSeeder
from tests.support.live_server import serving

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_LICENCES = 300
MOVE_DEADLINE_S = 120.0


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """The demo's layout: connectors read and write under the data directory."""
    data_dir = tmp_path / "var"
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "connector_root": str(data_dir),
            "connector_poll_interval_s": 0.05,
        },
    )


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def seeder(live_url: str, embedded_settings: Settings) -> DemoSeeder:
    paths = DemoPaths(ROOT, embedded_settings.keys_dir, embedded_settings.connector_root)
    return DemoSeeder(live_url, embedded_settings.keys_dir / "admin.pem", paths)


def test_seed_puts_the_province_on_the_hub(seeder: DemoSeeder) -> None:
    report = seeder.seed()
    departments = seeder.admin.get("/v1/departments")["departments"]
    assert {d["code"] for d in departments} == {d.code for d in province.DEPARTMENTS}
    subjects = seeder.admin.get("/v1/subjects")["subjects"]
    assert {s["subject"] for s in subjects} == {s.name for s in province.SUBJECTS}
    tax = seeder.department("taxation")
    (grant,) = tax.get("/v1/grants", params={"consumer": "taxation"})["grants"]
    assert grant["status"] == "approved"
    assert grant["purpose"]
    assert grant["fields"]
    assert tax.get(f"/v1/connectors/{province.TAX_SINK}")["grant_id"] == grant["id"]
    assert [p.name for p in report.files_dropped] == ["business-licences-0001.csv"]
    assert report.licences_shipped == SHIPPED_LICENCES
    assert report.key_files[province.AUDITOR].is_file()


def licence_versions(seeder: DemoSeeder) -> list[int]:
    path = f"/v1/subjects/{province.LICENCE_SUBJECT}/versions"
    return [version["version"] for version in seeder.admin.get(path)["versions"]]


def test_seed_registers_a_second_compatible_licence_version_for_the_catalogue_diff(
    seeder: DemoSeeder,
) -> None:
    seeder.seed()
    assert licence_versions(seeder) == [1, 2]
    versions = f"/v1/subjects/{province.LICENCE_SUBJECT}/versions"
    first = seeder.admin.get(f"{versions}/1")["schema"]
    second = seeder.admin.get(f"{versions}/2")["schema"]
    assert set(second["properties"]) - set(first["properties"]) == {"website"}
    assert second["required"] == first["required"]
    # The verdict the catalogue shows for v1 -> v2: readers of v2 read v1's records.
    verdict = seeder.admin.post(
        f"/v1/subjects/{province.LICENCE_SUBJECT}/compatibility",
        json={"schema": second, "against_version": 1},
    )
    assert verdict["compatible"] is True, verdict


def licence_grants_by_consumer(seeder: DemoSeeder) -> dict[str, dict[str, Any]]:
    owner = seeder.department("market-regulation")
    grants = owner.get("/v1/grants", params={"subject": province.LICENCE_SUBJECT})["grants"]
    return {grant["consumer"]: grant for grant in grants}


def test_seed_leaves_one_request_pending_and_one_grant_expiring(seeder: DemoSeeder) -> None:
    seeder.seed()
    grants = licence_grants_by_consumer(seeder)
    assert grants["public-security"]["status"] == "pending"  # for the owner to decide
    expiring = grants["social-security"]
    assert expiring["status"] == "approved"
    days_left = datetime.fromisoformat(expiring["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=179) < days_left <= timedelta(days=180)
    assert grants["taxation"]["expires_at"] is None


def test_seeding_again_creates_nothing_and_drops_no_file_twice(seeder: DemoSeeder) -> None:
    first = seeder.seed()
    second = seeder.seed()
    assert first.created
    assert second.created == []
    assert second.files_dropped == []
    assert second.grants == first.grants
    assert licence_versions(seeder) == [1, 2]
    assert licence_grants_by_consumer(seeder)["public-security"]["status"] == "pending"


def test_shipped_licences_move_from_the_inbox_to_the_tax_outbox(
    seeder: DemoSeeder, embedded_settings: Settings, live_url: str
) -> None:
    report = seeder.seed()
    market, tax = seeder.department("market-regulation"), seeder.department("taxation")
    with WorkerProcess(embedded_settings, live_url, "demo-test") as worker:
        deadline = time.monotonic() + MOVE_DEADLINE_S
        progress = read_progress(market, tax, report.licences_shipped)
        while not progress.done and time.monotonic() < deadline:
            worker.tick()
            progress = read_progress(market, tax, report.licences_shipped)
    assert progress.done, progress.line()
    assert progress.dead_lettered == 0
    delivered = [
        json.loads(line)
        for segment in sorted(seeder.paths.outbox.iterdir())
        for line in segment.read_text().splitlines()
    ]
    assert len(delivered) == SHIPPED_LICENCES
    granted = {"unified_social_credit_code", "enterprise_name", "enterprise_type",
               "registered_address", "status"}  # fmt: skip
    assert all(set(d["payload"]) <= granted for d in delivered)
    # The source published with the latest version, the one with the optional website.
    assert {d["schema_version"] for d in delivered} == {2}
    assert (seeder.paths.inbox / "done" / "business-licences-0001.csv").is_file()
