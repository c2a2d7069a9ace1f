"""A message factory that writes to standard output and error, through Python and straight to
file descriptors 1 and 2, when it starts and for each message: what a worker process must
never pass on to the terminal. ``main`` builds with it in worker processes; the test runs it
in a subprocess with pipes, so that only what really reached the terminal is seen."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lettr_cli.content.compose import Composer, Content, Sender
from lettr_cli.delivery.build import Builder, Built, FactorySpec, MessageFactory
from lettr_cli.signing.tokens import Signer


def _noise(what: str, marker: str) -> None:
    print(f"print: {what}")
    sys.stderr.write(f"stderr: {what}\n")
    sys.stderr.flush()
    os.write(1, f"fd 1: {what}\n".encode())
    os.write(2, f"fd 2: {what}\n".encode())
    with open(marker, "a", encoding="utf-8") as seen:  # proof that the noise ran, and where
        seen.write(f"{os.getpid()} {what}\n")


class NoisyFactory(MessageFactory):
    marker = ""

    def build(self, row_id: int, email: str, values: dict[str, object]) -> Built:
        _noise(f"building {email}", self.marker)
        return super().build(row_id, email, values)


@dataclass(frozen=True)
class NoisySpec(FactorySpec):
    marker: str = ""
    broken: bool = False

    def factory(self) -> MessageFactory:
        _noise("starting", self.marker)
        if self.broken:
            raise RuntimeError("the template engine broke")
        made = NoisyFactory(Composer(self.content, self.sender, self.fallbacks),
                            Signer(self.keys), self.dkim_key, self.bounce_domain)  # fmt: skip
        made.marker = self.marker
        return made


def spec(marker: str, broken: bool) -> NoisySpec:
    content = Content(
        campaign_id="c1", campaign_name="Noise", subject="Hello {{ email }}",
        html="<p>Hi {{ email }}</p>", text=None, preview_text=None,
        from_email="news@example.com", from_name="News", reply_to=None,
        track_opens=True, track_clicks=True,
    )  # fmt: skip
    sender = Sender("http://127.0.0.1:8080", "1 Main St", None)
    return NoisySpec(content, sender, {}, {1: b"k" * 32}, None, "example.com", marker, broken)


def main(out: str, marker: str, broken: bool) -> None:
    """Build two chunks of rows in worker processes; write what came back to ``out``."""
    builder = Builder(spec(marker, broken), Builder.PROCESS_THRESHOLD)
    report: dict[str, object] = {
        "processes": isinstance(builder.executor, ProcessPoolExecutor),
        "pid": os.getpid(),
    }
    rows: Sequence[tuple[int, str, dict[str, object]]] = [
        (n, f"user{n}@example.org", {"email": f"user{n}@example.org"}) for n in range(1, 7)
    ]
    try:
        built = asyncio.run(builder.build(rows[:3])) + asyncio.run(builder.build(rows[3:]))
        report["built"] = [b.recipient for b in built if isinstance(b, Built)]
        report["subjects"] = [b.message.split(b"Subject: ")[1].split(b"\r\n")[0].decode()
                              for b in built if isinstance(b, Built)]  # fmt: skip
    except Exception as exc:  # what the parent got, for the test to read
        report["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        builder.close()
    Path(out).write_text(json.dumps(report), encoding="utf-8")
