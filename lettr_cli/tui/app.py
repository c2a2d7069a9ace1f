"""`lettr wizard`: Review, the test email, Send now or Schedule behind a confirmation, the live
progress of a send, stop and quit. The editing steps are in ``editing``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Button, Input, ProgressBar, RadioSet, Static, TabbedContent
from textual.worker import Worker, WorkerError

from lettr_cli.errors import LettrError
from lettr_cli.tui import reads
from lettr_cli.tui.confirm import Confirm
from lettr_cli.tui.editing import Editing
from lettr_cli.tui.sending import StopSwitch, Throttled, drive, outcome_lines

if TYPE_CHECKING:
    from lettr_cli.delivery.leases import LeaseHandle
    from lettr_cli.delivery.progress import Progress
    from lettr_cli.delivery.review import Summary


# The builder's own actions: each works, and shows in the footer, only where it serves.
BUILDER_ACTIONS = {"step", "pick_html", "campaigns", "test_send", "go", "stop"}


class WizardApp(Editing):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "campaigns", "Campaigns"),
        Binding("f6", "pick_html", "Browse"),
        Binding("f8", "test_send", "Test"),
        Binding("f9", "go('now')", "Send"),  # one of the two shows: what f9 would do
        Binding("f9", "go('later')", "Schedule"),
        Binding("f10", "stop", "Stop"),
        Binding("ctrl+q", "save_quit", "Save & quit", priority=True),
    ]

    summary: Summary | None = None
    switch: StopSwitch | None = None
    send_worker: Worker[None] | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Whether a key works now (and so shows in the footer): the builder's keys only on the
        builder, not under the Campaigns screen or a question; f6 on Compose, f8 on Review;
        f9 says Send or Schedule as Schedule is set, f10 only during a send."""
        if action not in BUILDER_ACTIONS:
            return True
        try:
            step = self.find("#steps", TabbedContent).active
        except (IndexError, NoMatches):  # not composed yet
            return False
        if self.screen is not self.screen_stack[0]:
            return False
        sending = self.send_worker is not None
        works = {
            "step": True,
            "campaigns": not sending,
            "stop": sending,
            "go": self.editable and not sending and (parameters == ("later",)) == self.later(),
            "pick_html": self.editable and step == "compose",
            "test_send": step == "review",
        }
        return works[action]

    def action_campaigns(self) -> None:
        if self.send_worker is not None:
            self.notify("A send is running: stop it (f10) or wait for it first.")
            return
        from lettr_cli.tui.campaigns import Campaigns

        def opened(campaign_id: str | None) -> None:
            if campaign_id is not None:
                self.reopen(campaign_id)

        self.push_screen(Campaigns(self.workspace), opened)

    def action_pick_html(self) -> None:
        """Pick Compose's HTML file in a directory tree; the draft gets its content."""
        from lettr_cli.tui.files import HtmlPicker

        def picked(path: str | None) -> None:
            if path is not None:
                self.find("#html_path", Input).value = path
                self.read_html(path)

        self.push_screen(HtmlPicker(self.find("#html_path", Input).value), picked)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.focus_step(event.pane.id or "compose")
        self.refresh_bindings()
        if event.pane.id == "review":
            self.refresh_review()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.find("#go", Button).label = "Schedule (f9)" if self.later() else "Send now (f9)"
        self.refresh_bindings()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "test":
            self.action_test_send()
        elif event.button.id == "go":
            self.action_go()

    @work(exclusive=True, group="review")
    async def refresh_review(self) -> None:
        await self.review_now()

    async def review_now(self) -> Summary | None:
        """Save what is pending, then the Review summary with every refusal and the message for
        the first recipient."""
        from lettr_cli.delivery.review import review

        await self._loaded.wait()
        await self.flush()
        campaign_id = self.draft.campaign_id
        summary_box = self.find("#summary", Static)
        if campaign_id is None:
            summary_box.update("Nothing saved yet: start with Compose (f1).")
            return None
        try:
            self.summary = await review(self.workspace, campaign_id)
        except LettrError as error:
            summary_box.update(error.message)
            return None
        found = self.summary
        audience = found.audience
        reach = (
            "all subscribed contacts"
            if audience["all"]
            else ", ".join(
                [f"list {n}" for n in audience["lists"]]
                + [f"segment {n}" for n in audience["segments"]]
            )
        )
        summary_box.update(
            "\n".join([
                f"{found.name} ({found.status})",
                f"Subject:  {found.subject or '-'}",
                f"From:     {found.from_name or ''} <{found.from_email or '-'}>",
                f"Reply-to: {found.reply_to or '-'}",
                f"Audience: {reach or '(none chosen)'}",
                f"About {found.estimated_recipients} recipients",
                *(f"Warning: {w['message']}" for w in found.warnings),
            ])
        )  # fmt: skip
        refusals = "\n".join(f"Refused ({r.code}): {r.message}" for r in found.refusals)
        if found.status != "draft":  # read-only: what it came to
            lines = await asyncio.to_thread(reads.report_lines, self.workspace, campaign_id)
            refusals = "\n".join(lines)
        self.find("#refusals", Static).update(refusals or "Ready to send.")
        text = await asyncio.to_thread(reads.first_message, self.workspace, campaign_id)
        self.find("#first-message", Static).update(text)
        return found

    @work(exclusive=True, group="test")
    async def action_test_send(self) -> None:
        from lettr_cli.campaigns.test_sends import send_tests

        note = self.find("#test-result", Static)
        to = [a.strip() for a in self.find("#test_to", Input).value.split(",") if a.strip()]
        await self.flush()
        if self.draft.campaign_id is None or not to:
            note.update("Enter one or more addresses to send a test to.")
            return
        note.update("Sending the test...")
        try:
            result = await send_tests(self.workspace, self.draft.campaign_id, to)
        except LettrError as error:
            note.update(f"Test not sent ({error.code}): {error.message}")
            return
        refused = [f"{r['email']}: {r['reply']}" for r in result.refused]
        note.update(f"Test sent to {', '.join(result.sent) or 'nobody'}. " + "; ".join(refused))

    @work(exclusive=True, group="go")
    async def action_go(self, when: str = "") -> None:
        if self.send_worker is not None:
            return
        self.action_step("review")
        found = await self.review_now()
        if found is None or not found.sendable:
            self.notify("The campaign cannot be sent yet: see Review.", severity="error")
            return
        count = found.estimated_recipients
        if self.later():
            text = self.find("#at", Input).value
            ok, echo = reads.echo_time(text, self.zone)
            if not ok:
                self.notify(echo, severity="error")
                return
            question = f"Schedule '{found.name}' for {echo}, to about {count} recipients?"
        else:
            question = f"Send '{found.name}' to about {count} recipients now?"
        if not await self.push_screen_wait(Confirm(question)):
            return
        if self.later():
            await self._schedule(found, text)
        else:
            await self._send(found)

    async def _schedule(self, found: Summary, text: str) -> None:
        from lettr_cli.campaigns.scheduling import schedule
        from lettr_cli.campaigns.times import describe

        try:
            _, parsed = await schedule(self.workspace, found.campaign_id, text, self.zone)
        except LettrError as error:
            self.notify(f"Not scheduled ({error.code}): {error.message}", severity="error")
            return
        self.find("#progress", Static).update(
            f"Scheduled for {describe(parsed.at, parsed.zone)}; `lettr daemon tick` sends it."
        )
        self._read_only("scheduled")
        await self.review_now()

    async def _send(self, found: Summary) -> None:
        from lettr_cli.delivery.control import start_send

        try:
            started = await start_send(self.workspace, found.campaign_id, detach=False)
        except LettrError as error:
            self.notify(f"Not sent ({error.code}): {error.message}", severity="error")
            return
        assert started.handle is not None  # not detached
        self._read_only("sending")
        self.switch = StopSwitch()
        self.find("#progress", Static).update("Preparing...")
        self.find("#bar", ProgressBar).add_class("running")
        self.find("#progress", Static).scroll_visible()
        self.send_worker = self.run_worker(
            lambda: self._drive(started.handle), thread=True, group="send", name="send"
        )
        self.refresh_bindings()

    def _drive(self, handle: LeaseHandle | None) -> None:
        assert handle is not None and self.switch is not None
        observer = Throttled(
            lambda shown: self.call_from_thread(self.show_progress, shown),
            lambda line: self.call_from_thread(self.notify, line),
        )
        try:
            result = drive(self.workspace, handle, observer, self.switch)
            lines = outcome_lines(self.workspace, result, self.switch.asked)
        except LettrError as error:
            lines = [f"The send stopped ({error.code}): {error.message}"]
        self.call_from_thread(self.sent, lines)

    def show_progress(self, p: Progress) -> None:
        self.find("#bar", ProgressBar).update(total=max(p.total, 1), progress=p.done)
        self.find("#progress", Static).update(
            f"{p.sent}/{p.total} sent, {p.rate:.0f}/s, {p.failed} failed, {p.retrying} retrying, "
            f"{p.skipped} skipped, {p.in_doubt} in doubt, ETA {p.eta}"
        )

    def sent(self, lines: list[str]) -> None:
        self.send_worker = None
        self.refresh_bindings()
        self.find("#progress", Static).update("\n".join(lines))
        self.refresh_review()

    def action_stop(self) -> None:
        if self.switch is not None and self.send_worker is not None:
            self.switch.stop()
            self.notify("Stopping: messages in flight finish, the rest stay queued.")

    @work(exclusive=True, group="quit")
    async def action_save_quit(self) -> None:
        """Save what is pending and leave (exit 0); during a send, ask first, then drain."""
        if self.send_worker is not None:
            if not await self.push_screen_wait(Confirm("A send is running. Stop it and quit?")):
                return
            self.action_stop()
            await self.send_worker.wait()
        await self.flush()
        for worker in [w for w in self.workers if w.group == "audience"]:  # a choice being saved
            with contextlib.suppress(WorkerError):  # its refusal is on screen already
                await worker.wait()
        self.exit(0)
