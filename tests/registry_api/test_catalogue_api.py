"""The data catalogue: any authenticated principal lists subjects, filtered and paged."""

from __future__ import annotations

from tests.registry_api.conftest import register
from tests.support.signed_client import onboard_department, onboard_operator


def list_all(client, **params) -> list[str]:
    """Every subject name the catalogue lists, following `next_cursor` page by page."""
    names: list[str] = []
    cursor = None
    while True:
        query = params | ({"after": cursor} if cursor else {})
        page = client.get("/v1/subjects", params=query)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        names += [entry["subject"] for entry in body["subjects"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return names


def test_catalogue_pages_through_every_subject_in_name_order(admin, market):
    expected = [f"market-regulation.licence-{index:02}" for index in range(7)]
    for name in reversed(expected):
        assert register(market, name).status_code == 201

    first = market.get("/v1/subjects", params={"limit": 3}).get_json()

    assert [e["subject"] for e in first["subjects"]] == expected[:3]
    assert first["next_cursor"] == expected[2]
    assert list_all(market, limit=3) == expected


def test_catalogue_filters_by_owner_sensitivity_and_text(admin, market, taxation):
    onboard_department(admin, "civil-affairs")
    register(market, "market-regulation.business-licence", sensitivity="public")
    register(market, "market-regulation.inspection", title="Site inspection", sensitivity="secret")
    register(taxation, "taxation.clearance", title="Tax 100% cleared", sensitivity="public")
    register(admin, "civil-affairs.marriage", title="Marriage", description="Unions of two PERSONS")

    assert list_all(admin, owner="market-regulation") == [
        "market-regulation.business-licence",
        "market-regulation.inspection",
    ]
    assert list_all(admin, sensitivity="public") == [
        "market-regulation.business-licence",
        "taxation.clearance",
    ]
    assert list_all(admin, owner="market-regulation", sensitivity="secret") == [
        "market-regulation.inspection"
    ]
    assert list_all(admin, q="INSPECTION") == ["market-regulation.inspection"]
    assert list_all(admin, q="persons") == ["civil-affairs.marriage"]
    assert list_all(admin, q="BUSINESS-lic") == ["market-regulation.business-licence"]
    assert list_all(admin, q="%") == ["taxation.clearance"]
    assert list_all(admin, q="_") == []


def test_every_authenticated_principal_may_read_the_catalogue(admin, market, taxation):
    register(market)
    auditor = onboard_operator(admin, "inspector", "auditor")

    for reader in (admin, market, taxation, auditor):
        assert list_all(reader) == ["market-regulation.business-licence"]


def test_unsigned_catalogue_request_is_refused(client, market):
    register(market)

    assert client.get("/v1/subjects").status_code == 401


def test_bad_catalogue_filters_are_422(market):
    response = market.get("/v1/subjects", params={"sensitivity": "top", "limit": 0})

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"sensitivity", "limit"}


def test_every_registry_operation_is_documented_in_openapi(client):
    paths = client.get("/openapi.json").get_json()["paths"]

    assert set(paths["/v1/subjects"]) >= {"get", "post"}
    assert set(paths["/v1/subjects/{subject}/versions/{version}"]) >= {"get", "delete"}
    assert "put" in paths["/v1/subjects/{subject}/config"]
    assert "post" in paths["/v1/subjects/{subject}/compatibility"]
