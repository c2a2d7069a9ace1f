"""Property-based check of the API against its own /api/openapi.json (schemathesis): a few
generated requests per operation, none answered with a 5xx, every answer as described (status,
content type, body schema). Also: the description lists exactly the routes served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from lettr_cli.api.app import create_app
from lettr_cli.api.openapi import ApiRoute
from lettr_cli.signing.api_keys import create_key
from lettr_cli.workspace import Workspace
from tests.api_helpers import ALL

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def served(isolated_home: Path, responder: Any) -> Iterator[tuple[Any, str]]:
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with workspace.store.write() as session:
        key = create_key(session, "schema", [ALL]).key
    try:  # domains are verified at the (empty) loopback responder, never at real DNS
        yield create_app(workspace, nameserver=responder.nameserver), key
    finally:
        workspace.close()


def test_every_operation_answers_as_described_and_never_5xx(
    served: tuple[Any, str],
) -> None:
    app, key = served
    api_schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()


def test_the_description_lists_every_route_served(served: tuple[Any, str]) -> None:
    app, _ = served
    with TestClient(app) as http:
        described = http.get("/api/openapi.json").json()
    api = app.routes[0].app
    served_ops = {
        (route.path, method.lower())
        for route in api.routes
        if isinstance(route, ApiRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }
    listed = {(path, method) for path, ops in described["paths"].items() for method in ops}
    assert listed == served_ops
    assert all(isinstance(route, ApiRoute) for route in api.routes)
