"""Connector plugins: a distribution that declares an entry point in the group
`exchange.connectors` adds its class. The distribution here is real (a package and its
`.dist-info` on `sys.path`, found by `importlib.metadata` as pip would leave them), so the
loading is the hub's own: no mock."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.file import FILE
from exchange.connect.classes import available_classes, implementation
from tests.connectors.support import grant, register_inspections, write_key_file
from tests.support.signed_client import onboard_department

PLUGIN_MODULE = """
from marshmallow import fields

from connectors.base import ConnectorClass, SinkConfig, SinkConnector


class LedgerConfig(SinkConfig):
    ledger = fields.String(required=True)


class LedgerSink(SinkConnector):
    config_schema = LedgerConfig

    def put(self, deliveries):
        return []


LEDGER = ConnectorClass(name="ledger", description="Writes to the ledger", sink=LedgerSink)
IMPOSTOR = ConnectorClass(name="file", description="Would replace the file class")
"""

ENTRY_POINTS = """
[exchange.connectors]
ledger = exchange_ledger_plugin:LEDGER
file = exchange_ledger_plugin:IMPOSTOR
broken = exchange_ledger_plugin_missing:NOTHING
not-a-class = exchange_ledger_plugin:LedgerConfig
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`exchange-ledger-plugin` installed into a directory put on `sys.path`."""
    site = tmp_path / "site"
    (site / "exchange_ledger_plugin").mkdir(parents=True)
    (site / "exchange_ledger_plugin" / "__init__.py").write_text(PLUGIN_MODULE)
    dist_info = site / "exchange_ledger_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: exchange-ledger-plugin\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("exchange_ledger_plugin", None)  # the next test imports it afresh


def test_a_plugin_class_is_loaded_from_its_entry_point(installed_plugin):
    classes = available_classes()

    assert classes["ledger"].description == "Writes to the ledger"
    sink = implementation("ledger", "sink")
    assert sink is not None
    assert sink.__name__ == "LedgerSink"
    assert implementation("ledger", "source") is None


def test_a_plugin_cannot_replace_a_built_in_class_and_broken_ones_are_skipped(installed_plugin):
    classes = available_classes()

    assert classes["file"] is FILE
    assert "broken" not in classes
    assert "not-a-class" not in classes


def test_a_department_creates_a_connector_of_a_plugin_class(
    installed_plugin, admin, connector_root
):
    market = register_inspections(admin)
    tax = onboard_department(admin, "tax")
    config = {"key_file": write_key_file(tax, connector_root)}
    body = {
        "name": "inspections-to-ledger",
        "kind": "sink",
        "class": "ledger",
        "subject": "market-regulation.inspection",
        "grant_id": grant(tax, market, "market-regulation.inspection"),
        "config": config,
    }

    missing_field = tax.post("/v1/connectors", json=body)
    created = tax.post("/v1/connectors", json=body | {"config": config | {"ledger": "L1"}})

    assert missing_field.status_code == 422
    assert set(missing_field.get_json()["errors"]["config"]) == {"ledger"}
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["class"] == "ledger"
