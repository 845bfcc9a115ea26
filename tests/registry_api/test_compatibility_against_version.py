"""The compatibility dry run against one named version (`against_version`): the verdict
between two versions follows the direction of the subject's level, not the latest version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.registry_api.conftest import LICENCE_SCHEMA, PROBLEMS, licence_schema, register
from tests.support.signed_client import SignedClient

SUBJECT = "market-regulation.business-licence"
VERSIONS = f"/v1/subjects/{SUBJECT}/versions"
DRY_RUN = f"/v1/subjects/{SUBJECT}/compatibility"
WITH_BRANCH = licence_schema(branch={"type": "string"})


def capital_as_text() -> dict[str, Any]:
    """Version 2 with `capital` retyped from integer to string: breaks readers either way."""
    schema = licence_schema(branch={"type": "string"})
    schema["properties"]["capital"] = {"type": "string"}
    return schema


def set_level(client: SignedClient, level: str) -> None:
    answer = client.put(f"/v1/subjects/{SUBJECT}/config", json={"compatibility": level})
    assert answer.status_code == 200, answer.get_json()


@pytest.fixture
def three_versions(market: SignedClient) -> SignedClient:
    """v1 the licence, v2 adds an optional `branch`, v3 retypes `capital` (registered under
    NONE, so v2 and v3 are a genuinely incompatible pair); the level is BACKWARD again."""
    assert register(market).status_code == 201
    assert market.post(VERSIONS, json={"schema": WITH_BRANCH}).status_code == 201
    set_level(market, "NONE")
    assert market.post(VERSIONS, json={"schema": capital_as_text()}).status_code == 201
    set_level(market, "BACKWARD")
    return market


def verdict(client: SignedClient, schema: dict[str, Any], against: object = None) -> Any:
    body: dict[str, Any] = {"schema": schema}
    if against is not None:
        body["against_version"] = against
    answer = client.post(DRY_RUN, json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_against_an_earlier_version_ignores_the_later_ones(three_versions):
    # As the next version v2's schema would be judged against v3 and fail...
    assert verdict(three_versions, WITH_BRANCH)["compatible"] is False
    # ...but v1 -> v2 was a compatible step, and the pair's verdict says so.
    assert verdict(three_versions, WITH_BRANCH, against=1) == {
        "compatible": True,
        "messages": [],
        "incompatibilities": [],
    }


def test_an_incompatible_pair_names_each_break(three_versions):
    found = verdict(three_versions, capital_as_text(), against=2)

    assert found["compatible"] is False
    assert any(
        item["path"].startswith("/properties/capital") for item in found["incompatibilities"]
    )
    assert len(found["messages"]) == len(found["incompatibilities"])


@pytest.mark.parametrize(
    ("level", "v2_reads_v1", "v1_reads_v2"),
    [("BACKWARD", True, False), ("FORWARD", False, True), ("FULL", False, False)],
)
def test_the_verdict_follows_the_direction_of_the_level(
    three_versions, level: str, v2_reads_v1: bool, v1_reads_v2: bool
):
    """BACKWARD asks whether readers of the judged schema read data written with the named
    version; FORWARD the reverse; FULL both. v1 -> v2 adds an optional property to a closed
    content model: v2 reads v1's data, v1 refuses v2's `branch`."""
    set_level(three_versions, level)

    assert verdict(three_versions, WITH_BRANCH, against=1)["compatible"] is v2_reads_v1
    assert verdict(three_versions, LICENCE_SCHEMA, against=2)["compatible"] is v1_reads_v2


def test_against_an_unknown_version_is_404(three_versions):
    answer = three_versions.post(DRY_RUN, json={"schema": WITH_BRANCH, "against_version": 9})

    assert answer.status_code == 404
    assert answer.get_json()["type"] == PROBLEMS + "unknown-schema-version"


@pytest.mark.parametrize("against", [0, -1, "1", 1.5, 10**9])
def test_against_an_invalid_version_is_422(three_versions, against: object):
    answer = three_versions.post(DRY_RUN, json={"schema": WITH_BRANCH, "against_version": against})

    assert answer.status_code == 422
    assert "against_version" in answer.get_json()["errors"]


def test_only_the_owner_or_an_admin_may_ask(three_versions, taxation):
    answer = taxation.post(DRY_RUN, json={"schema": WITH_BRANCH, "against_version": 1})

    assert answer.status_code == 403
