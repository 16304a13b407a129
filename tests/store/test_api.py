"""The app factory and /healthz, in process."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ansim import __version__
from ansim.api.app import create_app
from ansim.store import queries


def test_healthz_reports_store_counts(loaded_engine) -> None:
    client = TestClient(create_app(engine=loaded_engine))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "version": __version__,
        "counts": queries.table_counts(loaded_engine),
    }
    assert body["counts"]["case_counts"] > 20_000


def test_openapi_and_docs() -> None:
    from ansim.store.db import make_engine

    client = TestClient(create_app(engine=make_engine("sqlite://")))
    assert client.get("/openapi.json").json()["info"]["title"] == "Ansim"
    assert client.get("/docs").status_code == 200
