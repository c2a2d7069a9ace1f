"""What the tracking endpoints share (``Tracker``): the store, the signer, the compiled content
of prepared campaigns and their link plans (``content.link_plans``), and the writer that groups
the hot endpoints' writes (``tracking.group_writer``). No web imports here."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import select

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.rendering import SAMPLE_EMAIL, composer_for
from lettr_cli.content.compose import Composer, Links, Rendered
from lettr_cli.content.html import TrackedLink
from lettr_cli.content.link_plans import LinkPlans
from lettr_cli.errors import LettrError
from lettr_cli.signing.tokens import Purpose, Signer, Token
from lettr_cli.store.tables import Campaign, TrackingKey
from lettr_cli.store.types import utcnow
from lettr_cli.tracking.group_writer import GroupWriter
from lettr_cli.tracking.group_writes import Item, write_group
from lettr_cli.tracking.recording import Recipient
from lettr_cli.workspace import Workspace

_KID = re.compile(r"^[a-z]([0-9]{1,6})\.")


class Tracker:
    """What the endpoints share: the store, the signer (reloaded when a token names a key
    this process has not seen, so `config rotate-secret` needs no restart), and each
    prepared campaign's compiled content (its content and fallbacks are frozen by then) with its
    link plans (a click's links without rendering the row's message), and the writer that
    groups opens, clicks and unsubscribes into few commits (``tracking.group_writer``)."""

    def __init__(self, workspace: Workspace, clock: Callable[[], datetime] = utcnow) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.clock = clock
        settings = workspace.settings()
        self.settings = settings
        self.machine_seconds = settings.integer("tracking.machine_open_seconds")
        self.busy_timeout = settings.integer("store.busy_timeout")
        self._lock = threading.Lock()
        self._signer: Signer | None = None
        self._composers: dict[str, Composer] = {}
        self._link_plans: dict[str, LinkPlans | None] = {}
        self.writer = GroupWriter(self.store, write_all=self._write_group)
        self._load_keys()

    async def write(self, item: Item) -> Any:
        """``item`` (an open, a click or an unsubscribe) written in the writer's next group;
        returns its result (``group_writes.write_group``) once that group is committed (raises
        ``StoreBusy`` when the store stayed locked)."""
        return await self.writer.submit(item)

    def _write_group(self, conn: Connection, items: list[Any]) -> list[Any]:
        return write_group(conn, items, self.links_of)

    # -- tokens ------------------------------------------------------------------------------
    def _load_keys(self) -> None:
        with self.store.read() as session:
            found = {
                row.kid: bytes.fromhex(row.secret) for row in session.exec(select(TrackingKey))
            }
        with self._lock:
            self._signer = Signer(found) if found else None

    def verify(self, token: str) -> Token | None:
        signer = self._signer
        kid = _KID.match(token)
        if kid is not None and (signer is None or int(kid.group(1)) not in signer.keys):
            self._load_keys()
            signer = self._signer
        return None if signer is None else signer.verify(token)

    # -- rebuilding a message ------------------------------------------------------------------
    def composer(self, campaign_id: str) -> Composer | None:
        cached = self._composers.get(campaign_id)
        if cached is not None:
            return cached
        with self.store.read() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                return None
            try:
                composer = composer_for(session, campaign, self.settings)
            except LettrError:
                return None
            # Content freezes when a campaign leaves draft, its fallbacks when it is prepared.
            if campaign.status != lifecycle.DRAFT and campaign.merge_fallbacks is not None:
                self._composers[campaign_id] = composer
        return composer

    def _composing(self, row: Recipient) -> tuple[Composer, Links] | None:
        """The row's composer and its signed links; None when either cannot be made."""
        composer = self.composer(row.campaign_id)
        signer = self._signer
        if composer is None or signer is None:
            return None

        def token_for(purpose: Purpose) -> str:
            return signer.for_row(purpose, row.row_id)

        return composer, Links(base_url=composer.sender.base_url, token_for=token_for)

    def render_row(self, row: Recipient) -> Rendered | None:
        composing = self._composing(row)
        if composing is None:
            return None
        composer, links = composing
        try:
            return composer.render(row.email, row.merge_values, links)
        except LettrError:
            return None

    def links_of(self, row: Recipient) -> tuple[TrackedLink, ...] | None:
        """The tracked links of the row's message (those ``render_row`` gives): from the
        campaign's link plans once its content is frozen, else rendered; None when they cannot
        be made."""
        composing = self._composing(row)
        if composing is None:
            return None
        composer, links = composing
        plans = self._plans(row.campaign_id, composer)
        try:
            if plans is not None:  # the campaign's links, with the row's tokens put in
                return plans.links(row.email, row.merge_values, links.token_for)
            return composer.links_for(row.email, row.merge_values, links)
        except LettrError:
            return None

    def _plans(self, campaign_id: str, composer: Composer) -> LinkPlans | None:
        """The frozen campaign's link plans (``content.link_plans``); None while its content
        may still change, or when its built-in links are not simply printed."""
        if campaign_id not in self._composers:
            return None
        if campaign_id not in self._link_plans:
            try:
                found = LinkPlans.plan(composer)
            except LettrError:  # the skeleton's trial render refused
                found = None
            with self._lock:
                self._link_plans[campaign_id] = found
        return self._link_plans[campaign_id]

    def render_sample(self, campaign_id: str, token: str) -> Rendered | None:
        composer = self.composer(campaign_id)
        if composer is None:
            return None
        links = Links(base_url=composer.sender.base_url, token_for=lambda _purpose: token)
        try:
            return composer.render(SAMPLE_EMAIL, {}, links)
        except LettrError:
            return None
