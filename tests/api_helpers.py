"""Shared set-up for the HTTP API tests: `lettr serve`'s app on a loopback port (in this
process, real HTTP) and keys made with `lettr apikey create`; the official SDK drives it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lettr as sdk

from tests.tracking_helpers import serving

ALL = "campaigns:read,campaigns:write,audience:read,audience:write,domains:read,domains:write"


def make_key(lettr: Any, name: str = "tests", scopes: str = ALL) -> str:
    made = lettr("apikey", "create", name, "--scopes", scopes, "--json")
    assert made.exit_code == 0, made.stderr
    return str(made.json()["key"])


@contextmanager
def api_server(home: Path, nameserver: str | None = None) -> Iterator[str]:
    """The app of `lettr serve` over the store in ``home``; yields the API's base URL."""
    from lettr_cli.api.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(home / "lettr.db", home=home, environ={})
    try:
        with serving(create_app(workspace, nameserver=nameserver)) as base:
            yield f"{base}/api"
    finally:
        workspace.close()


@contextmanager
def client(
    lettr: Any, home: Path, scopes: str = ALL, nameserver: str | None = None
) -> Iterator[sdk.Lettr]:
    """An SDK client with a fresh key of ``scopes``, against a server over ``home``'s store
    (domains verified at ``nameserver``)."""
    key = make_key(lettr, scopes=scopes)
    with api_server(home, nameserver) as base, sdk.Lettr(key, base_url=base) as api:
        yield api
