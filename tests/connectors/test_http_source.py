"""The http source pages through a department's endpoint by cursor: every object it lists
reaches the grantee once, new items are picked up later, and an item that is not an object
is dead-lettered with its cursor and index."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from tests.connectors.pipeline import Pipeline, payloads, run_until
from tests.connectors.support import write_key_file
from tests.connectors.test_http_sink import _serve
from tests.connectors.test_pipeline import pipeline as pipeline  # noqa: PLC0414


class InspectionFeed:
    """A department endpoint listing inspections after a numeric cursor."""

    def __init__(self) -> None:
        self.items: list = []
        self.cursors_asked: list[str | None] = []

    def add(self, *items) -> None:
        self.items.extend(items)

    def __call__(self, environ, start_response):
        request = Request(environ)
        cursor = request.args.get("cursor")
        self.cursors_asked.append(cursor)
        start = int(cursor or 0)
        page = self.items[start : start + int(request.args.get("limit", 10))]
        body = {"records": page, "next_cursor": str(start + len(page))}
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


def inspection(n: int) -> dict:
    return {
        "inspection_id": f"H-{n:03d}",
        "enterprise": f"Example Trading Co. {n} (fictional)",
        "score": n,
        "passed": True,
    }


def _create_http_source(pipeline: Pipeline, url: str) -> str:
    name = pipeline.name("inspections-feed")
    response = pipeline.market.post(
        "/v1/connectors",
        json={
            "name": name,
            "kind": "source",
            "class": "http",
            "subject": pipeline.subject,
            "config": {
                "url": url,
                "batch_size": 2,
                "errors.tolerance": "all",
                "key_file": write_key_file(pipeline.market, pipeline.root),
            },
        },
    )
    assert response.status_code == 201, response.get_json()
    return name


def test_the_feed_is_followed_by_cursor_and_a_non_object_is_dead_lettered(pipeline):
    feed = InspectionFeed()
    feed.add(inspection(1), inspection(2), "not an inspection", inspection(3))
    pipeline.create_sql_sink()

    with _serve(feed) as url, pipeline.worker("w1") as worker:
        source = _create_http_source(pipeline, url)
        run_until([worker], lambda: len(pipeline.sink_rows()) == 3, "three rows")
        feed.add(inspection(4))
        run_until([worker], lambda: len(pipeline.sink_rows()) == 4, "the new item")

    assert sorted(payloads(pipeline.sink_rows())) == ["H-001", "H-002", "H-003", "H-004"]
    letters = pipeline.dead_letters(pipeline.market, source)
    assert [letter["position"] for letter in letters] == [{"cursor": "2", "index": 0}]
    offsets = pipeline.market.get(f"/v1/connectors/{source}/offsets").get_json()["offsets"]
    assert offsets == [{"partition": "http", "offset": {"cursor": "5"}}]
