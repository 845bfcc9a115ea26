"""The latest-record view on SQLite and PostgreSQL: a newer offset replaces, an older never
does; the view builder fills it from the topics and a rebuild recreates it."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from exchange.cli.view import view
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.identity.keys import generate_private_key, key_id_of
from exchange.records.envelope import build_envelope, to_message, topic_for
from exchange.records.view_builder import ViewBuilder, rebuild_view
from exchange.signing.hub_signer import HubSigner
from exchange.store.database import Database
from exchange.store.repositories import LatestRecordRepository, LatestRecordRow
from exchange.transport.embedded import EmbeddedTransport

NOW = datetime(2024, 12, 1, tzinfo=UTC)


def _row(key: str, record_id: str, offset: int, partition: int = 0) -> LatestRecordRow:
    return LatestRecordRow("s.subject", key, record_id, "{}", partition, offset, NOW)


def _record_id(view: LatestRecordRepository, key: str) -> str | None:
    found = view.find("s.subject", key)
    return None if found is None else found.record_id


def test_a_newer_offset_replaces_the_stored_record_and_an_older_one_does_not(db):
    view = LatestRecordRepository(db)

    view.upsert_newer([_row("k", "r5", 5)])
    view.upsert_newer([_row("k", "r3", 3)])
    after_older = _record_id(view, "k")
    view.upsert_newer([_row("k", "r8", 8), _row("other", "o1", 1)])

    assert after_older == "r5"
    assert _record_id(view, "k") == "r8"
    assert _record_id(view, "other") == "o1"
    assert view.find("s.subject", "missing") is None


def test_the_view_builder_reads_the_topics_and_a_rebuild_recreates_the_view(db, tmp_path):
    key = generate_private_key()
    signer = HubSigner(key, key_id_of(key.public_key()))
    transport = EmbeddedTransport(tmp_path / "log.db")
    transport.create_topic(topic_for("s.subject"), 3)
    envelopes = [
        build_envelope(
            signer,
            subject="s.subject",
            schema_version=1,
            producer="owner",
            key=f"k{number % 2}",
            payload={"n": number},
            produced_at=NOW,
            accepted_at=NOW,
        )
        for number in range(4)
    ]
    transport.producer().produce(topic_for("s.subject"), [to_message(e) for e in envelopes])
    view = LatestRecordRepository(db)

    read = ViewBuilder(transport, db, group="test.view").catch_up(idle_s=0.5)
    built = {key: _record_id(view, key) for key in ("k0", "k1")}
    rebuilt_count = rebuild_view(transport, db)

    assert read == 4
    assert built == {"k0": envelopes[2]["record_id"], "k1": envelopes[3]["record_id"]}
    assert rebuilt_count == 4
    assert {key: _record_id(view, key) for key in ("k0", "k1")} == built
    transport.close()


def test_exchange_view_rebuild_recreates_the_view_from_the_topics(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGE_DATA_DIR", str(tmp_path / "var"))
    settings = load_settings()
    initialise(settings)
    transport = EmbeddedTransport(settings.embedded_transport_path)
    transport.create_topic(topic_for("s.subject"), 2)
    key = generate_private_key()
    envelope = build_envelope(
        HubSigner(key, key_id_of(key.public_key())),
        subject="s.subject",
        schema_version=1,
        producer="owner",
        key="k",
        payload={},
        produced_at=NOW,
        accepted_at=NOW,
    )
    transport.producer().produce(topic_for("s.subject"), [to_message(envelope)])
    transport.close()

    result = CliRunner().invoke(view, ["rebuild"])

    assert result.exit_code == 0, result.output
    assert "view rebuilt from 1 records" in result.output
    database = Database(settings.effective_database_url)
    assert _record_id(LatestRecordRepository(database), "k") == envelope["record_id"]
    database.close()
