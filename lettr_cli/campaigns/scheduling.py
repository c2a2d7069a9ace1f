"""TEMP stub until the scheduling branch is merged: nothing is ever due."""

from __future__ import annotations

from dataclasses import dataclass

from lettr_cli.workspace import Workspace


@dataclass(frozen=True)
class Promotion:
    campaign_id: str
    name: str
    status: str
    reason: str | None


def promote_due(workspace: Workspace) -> list[Promotion]:
    return []
