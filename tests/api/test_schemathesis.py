"""Property-based conformance: schemathesis generates requests from /openapi.json (≥ 500 cases).

Every answer must not be a server error, must use a documented status code and content type, and
must match the documented schema (problem details for errors). Run against the ASGI app on a store
copy; the checks that judge whether "valid" data must succeed are left out, since schema-valid
requests can still lie outside Seoul or the data period (a 422 problem, by design).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from tests.api.conftest import Api, build_api

pytestmark = pytest.mark.slow

CASES_PER_OPERATION = 40
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def fuzz_api(store_copy, session_risk, api_var_dir: Path) -> Iterator[Api]:
    yield from build_api(store_copy, session_risk, api_var_dir)


def test_schemathesis_over_the_openapi_spec(fuzz_api: Api) -> None:
    app = fuzz_api.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    calls: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    # with an ingest key, so writes get past authentication into validation
    auth = fuzz_api.auth()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        if operation.path.endswith("/events"):
            continue  # an endless event stream; covered on a real server in test_server.py

        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(checks=CHECKS, headers=auth)
            calls[case.operation.label] += 1
            statuses[response.status_code] += 1

        run()
    total = sum(calls.values())
    assert total >= 500, (total, calls)
    assert statuses[500] == 0
    assert any(200 <= s < 300 for s in statuses)
