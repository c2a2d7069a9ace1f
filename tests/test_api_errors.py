"""Failures of the server itself are JSON too: an endpoint that breaks answers Lettr's 500
envelope (and the SDK raises ServerError), never Starlette's plain text."""

from __future__ import annotations

from pathlib import Path

import httpx
import lettr as sdk
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lettr_cli.api.app import create_app
from lettr_cli.api.endpoints import Call, route
from lettr_cli.workspace import Workspace
from tests.api_helpers import make_key
from tests.tracking_helpers import serving

BROKEN = {"message": "An unexpected error occurred. Please try again later.",
          "error_code": "send_error"}  # fmt: skip


def _broken(_call: Call) -> Response:
    raise RuntimeError("a bug")


async def _bare(_request: Request) -> Response:
    raise RuntimeError("a bug outside the endpoint wrapper")


def test_a_broken_endpoint_answers_lettrs_500_envelope(lettr, isolated_home: Path) -> None:
    key = make_key(lettr)
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        app = create_app(workspace)
        api = app.routes[0].app  # the API mounted at /api
        api.router.routes += [
            route("/broken", "GET", None, _broken),
            Route("/bare", _bare, methods=["GET"]),
        ]
        with (
            serving(app) as base,
            httpx.Client(
                base_url=f"{base}/api", headers={"Authorization": f"Bearer {key}"}
            ) as http,
        ):
            wrapped, bare = http.get("/broken"), http.get("/bare")
            with (
                sdk.Lettr(key, base_url=f"{base}/api") as client,
                pytest.raises(sdk.ServerError) as raised,
            ):
                client._client.get("/broken")
    finally:
        workspace.close()
    assert (wrapped.status_code, wrapped.json()) == (500, BROKEN)
    assert (bare.status_code, bare.json()) == (500, BROKEN)
    assert raised.value.error_code == "send_error"


def test_a_path_no_route_can_read_is_a_json_404_under_api(lettr, isolated_home: Path) -> None:
    """A path with a newline in it matches no mount; under /api it is still Lettr's JSON."""
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with serving(create_app(workspace)) as base, httpx.Client(base_url=base) as http:
            api = http.get("/api/audience/contacts/a%0Ab/lists/c")
            tracking = http.get("/o/a%0Ab.gif")
    finally:
        workspace.close()
    assert api.status_code == 404 and api.json()["error_code"] == "not_found"
    assert tracking.status_code == 404 and "json" not in tracking.headers["content-type"]
