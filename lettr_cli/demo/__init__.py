"""The demo: a throwaway store built from data that ships inside the package, and a real send
of a real campaign to a sink on loopback.

Its audience (the same data as ``sample_audience.csv`` at the repository root) and its template
are read with ``importlib.resources``, so the demo works from a plain (non-editable) install.
Everything goes through the services the commands use: the importer, lists and segments, the
domain check against the loopback DNS responder, templates and campaigns, ``start_send`` and
the sending engine. ``audience`` builds the contacts, ``build`` the rest, ``send`` the send.
"""

from __future__ import annotations

from importlib import resources

SAMPLE_FILE = "sample_audience.csv"
TEMPLATE_FILE = "template.html"


def bundled_text(name: str) -> str:
    """A data file shipped in this package, as text."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def sample_audience_text() -> str:
    """The bundled sample audience as CSV text."""
    return bundled_text(SAMPLE_FILE)


def template_html() -> str:
    """The bundled campaign template (HTML with merge tags)."""
    return bundled_text(TEMPLATE_FILE)
