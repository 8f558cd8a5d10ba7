"""The JSON API: bulk lookups in order with a documented limit (413), the reports, and an
OpenAPI description that schemathesis holds the server to (a bounded run)."""

from __future__ import annotations

import ipaddress
import json

import pytest
from fastapi.testclient import TestClient

from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.lookup import Lookup
from rirport.query.view import load_current
from rirport.store.unit import Store


def test_bulk_answers_in_order_like_the_cli(client: TestClient, filled_store: Store) -> None:
    queries = [
        "193.0.17.1",
        "2001:4860::1",
        "AS3333",
        "not an address/",
        "192.0.2.1",
        "193.0.6.139",
    ]
    response = client.post("/api/lookup", json={"queries": queries})
    assert response.status_code == 200
    body = response.json()
    assert [a["query"] for a in body] == queries
    expected = [a.to_json() for a in Lookup(load_current(filled_store)).bulk(queries)]
    assert body == expected
    assert body[0]["matches"][0]["registry"] == "arin"
    assert "error" in body[3] and body[4]["matches"] == []


def test_bulk_limits_are_413(filled_store: Store) -> None:
    app = create_app(filled_store, None, HttpConfig(rate=0, bulk_max_queries=3, bulk_max_bytes=200))
    with TestClient(app) as client:
        too_many = client.post("/api/lookup", json={"queries": ["1.1.1.1"] * 4})
        assert (too_many.status_code, too_many.json()["errorCode"]) == (413, 413)
        too_big = client.post(
            "/api/lookup",
            content=json.dumps({"queries": ["x" * 300]}),
            headers={"content-type": "application/json"},
        )
        assert too_big.status_code == 413

        def chunks():  # no Content-Length: counted while read
            yield b'{"queries": ["'
            yield b"1" * 300
            yield b'"]}'

        assert client.post("/api/lookup", content=chunks()).status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"queries": "1.1.1.1"}',
        b'{"queries": [1]}',
        b'{"queries": [], "x": 1}',
    ],
)
def test_bad_bulk_bodies_are_400(client: TestClient, body: bytes) -> None:
    response = client.post("/api/lookup", content=body)
    assert (response.status_code, response.json()["errorCode"]) == (400, 400)


def test_reports(client: TestClient) -> None:
    stats = client.get("/api/stats").json()
    assert {"registry": "arin", "type": "ipv4", "status": "allocated"}.items() <= stats[
        next(
            i
            for i, s in enumerate(stats)
            if s["registry"] == "arin" and s["type"] == "ipv4" and s["status"] == "allocated"
        )
    ].items()
    integrity = client.get("/api/integrity", params={"limit": 5}).json()
    assert integrity["counts"] and len(integrity["findings"]) <= 5
    kinds = {f["kind"] for f in integrity["findings"]}
    assert kinds <= {"outside-iana", "overlap", "duplicate", "summary-mismatch"}
    cells = client.get("/api/portability", params={"regime": "mandatory-portability"}).json()
    assert {c["regime"] for c in cells} == {"mandatory-portability"}
    assert client.get("/api/portability", params={"regime": "nope"}).status_code == 400
    decision = client.get(
        "/api/transfer/evaluate", params={"resource": "193.0.6.139", "to": "arin"}
    ).json()
    assert set(decision) == {"outcome", "rules", "conditions", "rpki"}
    assert (
        client.get(
            "/api/transfer/evaluate", params={"resource": "192.0.2.1", "to": "arin"}
        ).status_code
        == 404
    )
    journal = client.get("/api/journal", params={"limit": 2}).json()
    assert len(journal) == 2 and journal[0]["serial"] > journal[1]["serial"]
    assert client.get("/api/lookup", params={"q": "AS3333"}).json()[0]["start"] == "3333"


def test_openapi_holds_under_schemathesis(client: TestClient) -> None:
    """A bounded schemathesis run over every documented operation: no 5xx, status codes,
    content types and bodies as documented."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_bulk_fast_path_gives_the_lookups_answers(client: TestClient, filled_store: Store) -> None:
    """Every IPv4 delegation's first and last address, and the address after it, answered
    by the vectorised path as :meth:`Lookup.bulk` answers them one by one."""
    view = load_current(filled_store)
    table = view.table
    queries = []
    for row in range(len(table)):
        if table.row(row).type.value == "ipv4":
            first, last = table.first_int(row), table.last_int(row)
            queries += [str(ipaddress.IPv4Address(n)) for n in (first, last, last + 1) if n < 2**32]
    assert len(queries) > 100
    response = client.post("/api/lookup", json={"queries": queries})
    assert response.status_code == 200
    assert response.json() == [a.to_json() for a in Lookup(view).bulk(queries)]
