"""The four steps' widgets: Compose, Audience, Schedule, Review. Layout only; the app fills
them and reacts to their changes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
)

from lettr_cli.tui.files import HtmlPaths

STEPS = (("compose", "1 Compose"), ("audience", "2 Audience"), ("schedule", "3 Schedule"),
         ("review", "4 Review"))  # fmt: skip

# Compose's text inputs: (id, label, placeholder).
TEXT_INPUTS = (
    ("name", "Name", "what you call this campaign"),
    ("subject", "Subject", "the subject line"),
    ("from_name", "From name", "the sender's name"),
    ("reply_to", "Reply-to", "where replies go (optional)"),
    ("preview_text", "Preview text", "the line shown after the subject (optional)"),
)


class Choices(SelectionList[str]):
    """Lists or segments to pick: the first is highlighted as the list gets the focus, so
    Space selects it at once."""

    def on_focus(self) -> None:
        if self.highlighted is None and self.option_count:
            self.action_first()


def compose_step() -> ComposeResult:
    with VerticalScroll(id="compose-step"):
        yield Input(placeholder="What is it about? Enter offers a name, subject and sender",
                    id="prompt")  # fmt: skip
        for key, label, placeholder in TEXT_INPUTS[:2]:
            yield Label(label)
            yield Input(placeholder=placeholder, id=key)
        yield Static("", id="subject-findings", classes="note")
        yield Label("From address")
        with Horizontal(classes="row"):
            yield Input(placeholder="local part, e.g. news", id="from_local")
            yield Select[str]([], prompt="verified domain", id="from_domain")
        for key, label, placeholder in TEXT_INPUTS[2:]:
            yield Label(label)
            yield Input(placeholder=placeholder, id=key)
        yield Label("Content: an HTML file, or a template")
        yield Input(placeholder="path to an HTML file (Enter reads it; f6 browses)",
                    id="html_path", suggester=HtmlPaths())  # fmt: skip
        yield Select[str]([], prompt="template", id="template")
        yield Static("", id="compose-errors", classes="error")


def audience_step() -> ComposeResult:
    with VerticalScroll(id="audience-step"):
        yield Checkbox("All subscribed contacts", id="everyone")
        yield Label("Lists")
        yield Choices(id="lists")
        yield Label("Segments")
        yield Choices(id="segments")
        yield Static("", id="estimate", classes="note")
        yield Static("", id="audience-error", classes="error")


def schedule_step() -> ComposeResult:
    with VerticalScroll(id="schedule-step"):
        with RadioSet(id="when"):
            yield RadioButton("Send now", value=True, id="now")
            yield RadioButton("At a time", id="later")
        yield Input(placeholder="2026-12-01T09:00, +2h, +1d or 'Dec 1 9am'", id="at")
        yield Static("", id="at-echo", classes="note")


def review_step() -> ComposeResult:
    with VerticalScroll(id="review-step"):
        yield Static("", id="summary")
        yield Static("", id="refusals", classes="error")
        yield Label("The message for the first recipient")
        yield Static("", id="first-message", classes="message")
        with Horizontal(classes="row"):
            yield Input(placeholder="test addresses, comma-separated", id="test_to")
            yield Button("Send test (f8)", id="test")
        yield Static("", id="test-result", classes="note")
        yield Button("Send now (f9)", id="go", variant="primary")
        yield ProgressBar(id="bar", show_eta=False)
        yield Static("", id="progress")
