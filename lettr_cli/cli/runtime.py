"""What every command shares: the store location and the open workspace, opened on first use."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lettr_cli.store.location import STORE_FILENAME, StoreLocation, parse_location

if TYPE_CHECKING:
    from lettr_cli.workspace import Workspace


def lettr_home(environ: Mapping[str, str]) -> Path:
    """``$LETTR_HOME``, else the platform's per-user data folder."""
    configured = environ.get("LETTR_HOME")
    if configured:
        return Path(configured).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("lettr", appauthor=False))


@dataclass
class Runtime:
    db: str | None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _workspace: Workspace | None = None

    @property
    def home(self) -> Path:
        return lettr_home(self.environ)

    @property
    def store_path(self) -> StoreLocation:
        if self.db:
            return parse_location(self.db)
        return self.home / STORE_FILENAME

    def workspace(self) -> Workspace:
        if self._workspace is None:
            with _collector_paused():  # the store's libraries load: many objects, no garbage
                from lettr_cli.workspace import Workspace

                opened = Workspace.open(self.store_path, home=self.home, environ=self.environ)
            self._workspace = opened
            _show_times_in_operator_zone(self._workspace)
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def runtime(ctx: typer.Context) -> Runtime:
    found = ctx.find_root().obj
    assert isinstance(found, Runtime), "the root callback sets the runtime"
    return found


def workspace(ctx: typer.Context) -> Workspace:
    """The open workspace (store and configuration) for this invocation."""
    return runtime(ctx).workspace()


def _show_times_in_operator_zone(workspace: Workspace) -> None:
    """Times are stored in UTC and shown to people in config ``timezone``, else the system's
    zone (CONTRACT "Times"); JSON stays UTC. The zone is found when a time is first shown (the
    workspace is open until the command ends)."""
    from lettr_cli.cli.output import set_display_zone

    def zone() -> tzinfo:
        from lettr_cli.campaigns.times import load_zone, operator_zone
        from lettr_cli.errors import LettrError

        try:
            return load_zone(operator_zone(None, workspace.settings().text("timezone")))
        except LettrError:
            return UTC  # an unusable zone leaves times in UTC; `config set timezone` refuses those

    set_display_zone(zone)
