"""The editing half of the wizard: the step bar, Compose, Audience and Schedule, and the
debounced autosave of every edit through the draft (``draft.Draft``)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Footer,
    Input,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)

from lettr_cli.tui import reads, steps
from lettr_cli.tui.draft import Draft
from lettr_cli.tui.look import CSS
from lettr_cli.workspace import Workspace

W = TypeVar("W", bound=Widget)
STEP_KEYS = Binding.Group("Steps")
SAVE_AFTER = 0.6  # seconds of quiet before an edit is saved
SAVED_INPUTS = {key for key, _, _ in steps.TEXT_INPUTS}


class Editing(App[int]):
    CSS = CSS
    TITLE = "lettr wizard"
    BINDINGS: ClassVar[list[BindingType]] = [  # one group in the footer: "f1 f2 f3 f4 Steps"
        Binding(f"f{n}", f"step('{key}')", title, group=STEP_KEYS)
        for n, (key, title) in enumerate(steps.STEPS, start=1)
    ]

    def __init__(self, workspace: Workspace, ref: str | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.ref = ref
        self.draft = Draft(workspace)
        self.pending: dict[str, str] = {}
        self.saved: dict[str, str] = {}  # the values the store has, to skip echoes
        self.refused: dict[str, str] = {}
        self.options = reads.Options([], [], [], [])
        self.zone = "UTC"
        self.editable = True
        self._timer: Timer | None = None
        self._save_lock = asyncio.Lock()
        self._loaded = asyncio.Event()

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="compose", id="steps"):
            for (key, title), content in zip(
                steps.STEPS,
                (steps.compose_step, steps.audience_step, steps.schedule_step, steps.review_step),
                strict=True,
            ):
                with TabPane(title, id=key):
                    yield from content()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # A 16-colour terminal loses the inputs' shade of grey: they get colours of their own.
        self.set_class(self.console.color_system == "standard", "-colours16")
        self.find("#name", Input).focus()
        self.load()

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        self.draft = await asyncio.to_thread(Draft.open, self.workspace, self.ref)
        self.options = await asyncio.to_thread(reads.options, self.workspace)
        self.zone = await asyncio.to_thread(reads.zone_of, self.workspace)
        everyone = await asyncio.to_thread(reads.estimate, self.workspace, True, [], [])
        body = await asyncio.to_thread(self.draft.body)
        self._fill(body, everyone)
        self._loaded.set()

    def reopen(self, ref: str | None) -> None:
        """Show another campaign (the Campaigns screen's Open), once pending edits are saved."""

        async def switch() -> None:
            await self.flush()
            self._loaded.clear()
            self.ref = ref
            self.load()
            self.action_step("compose")

        self.run_worker(switch(), group="save")

    def _reset(self) -> None:
        """Empty every step, editable, before a campaign is (re)loaded."""
        self.editable, self.saved, self.refused, self.pending = True, {}, {}, {}
        self.refresh_bindings()
        for step in ("#compose-step", "#audience-step", "#schedule-step"):
            for widget in self.find(step, Widget).query("Input, Select, Checkbox, SelectionList"):
                widget.disabled = False
        for field in self.find("#compose-step", Widget).query(Input):
            field.value = ""
        self.find("#prompt", Input).display = True
        for name in ("#lists", "#segments"):
            self.find(name, SelectionList).clear_options()
        for name in ("#compose-errors", "#audience-error", "#estimate", "#progress", "#refusals",
                     "#summary", "#first-message", "#test-result"):  # fmt: skip
            self.find(name, Static).update("")

    def _fill(self, body: dict[str, Any] | None, everyone: int) -> None:
        self._reset()
        domains = list(self.options.domains)
        local, _, domain = ((body or {}).get("from_email") or "").partition("@")
        if domain and domain not in domains:
            domains.append(domain)
        self.find("#from_domain", Select).set_options((d, d) for d in domains)
        self.find("#template", Select).set_options((t, t) for t in self.options.templates)
        self.find("#everyone", Checkbox).label = f"All subscribed contacts ({everyone})"
        self.find("#lists", SelectionList).add_options(
            (f"{o.name} ({o.subscribed} subscribed)", o.id) for o in self.options.lists
        )
        self.find("#segments", SelectionList).add_options(
            (f"{o.name} ({o.subscribed} subscribed)", o.id) for o in self.options.segments
        )
        self.find("#at-echo", Static).update(f"Times are read in {self.zone}.")
        if body is None:
            return
        self.find("#prompt", Input).display = False  # the prompt is for a new draft
        for key in SAVED_INPUTS:
            self._set_input(key, body.get(key) or "")
        self._set_input("from_local", local)
        self.saved["from_email"] = body.get("from_email") or ""
        if domain:
            self.find("#from_domain", Select).value = domain
        if body.get("template"):
            self.saved["template"] = body["template"]["name"]
            self.find("#template", Select).value = body["template"]["name"]
        self._fill_audience(body["audience"])
        if body["status"] != "draft":
            self._read_only(body["status"])

    def _set_input(self, key: str, value: str) -> None:
        self.saved[key] = value
        self.find(f"#{key}", Input).value = value

    def _fill_audience(self, audience: dict[str, Any]) -> None:
        self.find("#everyone", Checkbox).value = bool(audience["all"])
        for widget, offers, names in (
            ("#lists", self.options.lists, audience["lists"]),
            ("#segments", self.options.segments, audience["segments"]),
        ):
            chosen = self.find(widget, SelectionList)
            for offer in offers:
                if offer.name in names:
                    chosen.select(offer.id)
        self._audience_seen = self._audience()

    def _read_only(self, status: str) -> None:
        self.editable = False
        self.refresh_bindings()
        for step in ("#compose-step", "#audience-step", "#schedule-step"):
            for widget in self.find(step, Widget).query("Input, Select, Checkbox, SelectionList"):
                widget.disabled = True
        self.find("#compose-errors", Static).update(
            f"This campaign is {status}: it opens read-only."
        )

    def find(self, selector: str, expect: type[W]) -> W:
        """A widget of the steps, whatever screen is on top (a question, say)."""
        return self.screen_stack[0].query_one(selector, expect)

    def action_step(self, step: str) -> None:
        self.find("#steps", TabbedContent).active = step
        self.focus_step(step)

    def focus_step(self, step: str) -> None:
        """Focus the step's first field, unless the focus is in the step already (a focus left
        in another step would take the step bar back there)."""
        pane = self.find(f"#{step}-step", Widget)
        focused = self.screen_stack[0].focused
        if focused is not None and pane in focused.ancestors_with_self:
            return
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    # Autosave -----------------------------------------------------------------------------

    def _edited(self, key: str, value: str) -> None:
        if not self.editable or not self._loaded.is_set():
            return
        if self.saved.get(key) == value and key not in self.pending:
            return
        self.pending[key] = value
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SAVE_AFTER, self._autosave)

    def _autosave(self) -> None:
        self.run_worker(self.flush(), group="save")

    async def flush(self) -> None:
        """Save every pending edit now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        async with self._save_lock:
            values, self.pending = self.pending, {}
            if not values:
                return
            refused = await asyncio.to_thread(self.draft.save, values)
        for key, value in values.items():
            self.refused.pop(key, None)
            if key not in refused:
                self.saved[key] = value
        self.refused.update(refused)
        lines = [f"{key.replace('_', ' ')}: {message}" for key, message in self.refused.items()]
        self.find("#compose-errors", Static).update("\n".join(lines))

    def on_input_changed(self, event: Input.Changed) -> None:
        key = event.input.id or ""
        if event.value != event.input.value:
            return  # a change overtaken by a later one (a campaign being loaded)
        if key in SAVED_INPUTS:
            self._edited(key, event.value)
        if key == "subject":
            found = reads.subject_findings(event.value)
            self.find("#subject-findings", Static).update("\n".join(found))
        elif key == "from_local":
            self._from_changed()
        elif key == "at":
            ok, text = reads.echo_time(event.value, self.zone) if event.value else (True, "")
            echo = self.find("#at-echo", Static)
            echo.set_class(not ok, "error")
            echo.update(text or f"Times are read in {self.zone}.")

    @work(exclusive=True, group="prompt")
    async def fill_from_prompt(self, prompt: str) -> None:
        """Offer a name, a subject and the sender of the closest earlier campaign for the
        fields still empty; what the operator typed wins."""
        offered = await asyncio.to_thread(reads.offer, self.workspace, prompt)
        for key in ("name", "subject", "from_name", "reply_to"):
            field = self.find(f"#{key}", Input)
            value = getattr(offered, key)
            if not field.value and value:
                field.value = value
        local, _, domain = (offered.from_email or "").partition("@")
        if local and not self.find("#from_local", Input).value:
            self.find("#from_local", Input).value = local
            if domain in self.options.domains:
                self.find("#from_domain", Select).value = domain
        if offered.match is not None:
            self.notify(f"Sender from '{offered.match.name}', the closest earlier campaign.")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "prompt" and event.value.strip():
            self.fill_from_prompt(event.value.strip())
        if event.input.id == "html_path" and event.value.strip():
            self.read_html(event.value.strip())

    def read_html(self, path: str) -> None:
        """Save the HTML file's content into the draft now."""
        self.pending["html_path"] = path
        self._autosave()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "from_domain":
            self._from_changed()
        elif event.select.id == "template" and isinstance(event.value, str):
            self._edited("template", event.value)

    def _from_changed(self) -> None:
        local = self.find("#from_local", Input).value.strip()
        domain = self.find("#from_domain", Select).value
        if not local:
            self._edited("from_email", "")
        elif isinstance(domain, str):
            self._edited("from_email", f"{local}@{domain}")

    # Audience -----------------------------------------------------------------------------

    def _audience(self) -> tuple[bool, list[str], list[str]]:
        return (
            self.find("#everyone", Checkbox).value,
            list(self.find("#lists", SelectionList).selected),
            list(self.find("#segments", SelectionList).selected),
        )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._audience_changed()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        self._audience_changed()

    def _audience_changed(self) -> None:
        if self.editable and self._loaded.is_set():
            self.save_audience()

    @work(exclusive=True, group="audience")
    async def save_audience(self) -> None:
        everyone, list_ids, segment_ids = chosen = self._audience()
        count = await asyncio.to_thread(
            reads.estimate, self.workspace, everyone, list_ids, segment_ids
        )
        self.find("#estimate", Static).update(
            f"About {count} recipients (subscribed, each counted once)"
        )
        if chosen == getattr(self, "_audience_seen", None):
            return
        error = "Choose all contacts, or lists and segments." if not any(chosen) else None
        if error is None:
            names = {o.id: o.name for o in (*self.options.lists, *self.options.segments)}
            error = await asyncio.to_thread(
                self.draft.save_audience,
                everyone,
                [names[i] for i in list_ids],
                [names[i] for i in segment_ids],
            )
            if error is None:
                self._audience_seen = chosen
        self.find("#audience-error", Static).update(error or "")

    def later(self) -> bool:
        """Whether the Schedule step asks for a time rather than now."""
        return self.find("#when", RadioSet).pressed_index == 1
