"""The SMTP client's PIPELINING (RFC 2920): when the relay offers it, MAIL, RCPT and DATA of one
message go out in one write and the replies are read in order; without it, each command waits
for its reply. A reply means the same at the same stage either way (tests/test_send_replies.py
runs DESIGN's whole table both ways); these tests drive ``transport.smtp.Relay`` against small
servers on loopback that prove the order of the exchange itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Relay, RelayFailure, RelaySettings
from tests.smtp_relay import Relay as ScriptedRelay

Lines = asyncio.StreamReader
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _settings(port: int, **extra: object) -> RelaySettings:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": None,
        "password": None,
        "timeout": 5.0,
        "data_timeout": 5.0,
    }
    return RelaySettings(**{**base, **extra})  # type: ignore[arg-type]


async def _serve(script: Script) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(script, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def _greet(reader: Lines, writer: asyncio.StreamWriter, *, pipelining: bool) -> None:
    writer.write(b"220 sink.example.net ESMTP\r\n")
    assert (await reader.readline()).startswith(b"EHLO ")
    offered = b"250-PIPELINING\r\n" if pipelining else b""
    writer.write(b"250-sink.example.net\r\n" + offered + b"250 8BITMIME\r\n")


async def _data(reader: Lines) -> bytes:
    body = b""
    while (line := await reader.readline()) != b".\r\n":
        assert line, "the client closed before its end of data"
        body += line
    return body


def test_with_pipelining_the_envelope_goes_out_before_any_reply() -> None:
    """This server answers nothing of a transaction until MAIL, RCPT and DATA have all
    arrived: a client that waited for each reply would time out."""
    seen: list[bytes] = []

    async def script(reader: Lines, writer: asyncio.StreamWriter) -> None:
        await _greet(reader, writer, pipelining=True)
        for _ in range(2):
            commands = [await reader.readline() for _ in range(3)]
            seen.extend(commands)
            writer.write(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go on\r\n")
            await _data(reader)
            writer.write(b"250 2.0.0 queued\r\n")
        assert await reader.readline() == b"QUIT\r\n"
        writer.write(b"221 bye\r\n")
        writer.close()

    async def main() -> list[str]:
        server, port = await _serve(script)
        async with server, Relay(_settings(port, timeout=2.0)) as relay:
            assert relay.pipelining
            first = await relay.send(
                "b@example.com", "one@example.org", b"Subject: 1\r\n\r\nhi\r\n"
            )
            again = await relay.send("b@example.com", "two@example.org", b"Subject: 2\r\n\r\n.x")
            return [first.reply_class, again.reply_class]

    assert asyncio.run(main()) == [ReplyClass.DELIVERED, ReplyClass.DELIVERED]
    assert seen == [
        b"MAIL FROM:<b@example.com>\r\n",
        b"RCPT TO:<one@example.org>\r\n",
        b"DATA\r\n",
        b"MAIL FROM:<b@example.com>\r\n",
        b"RCPT TO:<two@example.org>\r\n",
        b"DATA\r\n",
    ]


def test_without_pipelining_each_command_waits_for_its_reply() -> None:
    """This server offers no PIPELINING and refuses a command that arrives before the reply to
    the one before it went out (as a strict relay does)."""
    early: list[bytes] = []

    async def answer(reader: Lines, writer: asyncio.StreamWriter, reply: bytes) -> bytes:
        line = await reader.readline()
        await asyncio.sleep(0.05)  # whatever came meanwhile came too early
        if reader._buffer:  # type: ignore[attr-defined]
            early.append(bytes(reader._buffer))  # type: ignore[attr-defined]
        writer.write(reply)
        return line

    async def script(reader: Lines, writer: asyncio.StreamWriter) -> None:
        await _greet(reader, writer, pipelining=False)
        await answer(reader, writer, b"250 Ok\r\n")
        await answer(reader, writer, b"250 Ok\r\n")
        await answer(reader, writer, b"354 go on\r\n")
        await _data(reader)
        writer.write(b"250 queued\r\n")
        await reader.readline()
        writer.write(b"221 bye\r\n")
        writer.close()

    async def main() -> ReplyClass:
        server, port = await _serve(script)
        async with server, Relay(_settings(port)) as relay:
            assert not relay.pipelining
            outcome = await relay.send("b@example.com", "one@example.org", b"Subject: x\r\n\r\n")
            return outcome.reply_class

    assert asyncio.run(main()) is ReplyClass.DELIVERED
    assert early == []


def test_a_354_after_a_refused_rcpt_gets_its_end_of_data_and_the_connection_goes_on() -> None:
    """RFC 2920: a server may answer the pipelined DATA with 354 although RCPT was refused;
    the client then ends the empty data, the row bounces as a 550 5.1.1 at RCPT does, and the
    next message goes over the same connection."""
    after_refusal: list[bytes] = []

    async def script(reader: Lines, writer: asyncio.StreamWriter) -> None:
        await _greet(reader, writer, pipelining=True)
        [await reader.readline() for _ in range(3)]
        writer.write(b"250 Ok\r\n550 5.1.1 no such user\r\n354 go on\r\n")
        after_refusal.append(await reader.readline())
        writer.write(b"554 5.5.1 no valid recipients\r\n")
        after_refusal.append(await reader.readline())
        writer.write(b"250 reset\r\n")
        [await reader.readline() for _ in range(3)]
        writer.write(b"250 Ok\r\n250 Ok\r\n354 go on\r\n")
        await _data(reader)
        writer.write(b"250 queued\r\n")
        await reader.readline()
        writer.write(b"221 bye\r\n")
        writer.close()

    async def main() -> list[tuple[ReplyClass, str]]:
        server, port = await _serve(script)
        async with server, Relay(_settings(port)) as relay:
            bad = await relay.send("b@example.com", "bad@example.org", b"Subject: x\r\n\r\n")
            good = await relay.send("b@example.com", "ok@example.org", b"Subject: y\r\n\r\n")
            return [(bad.reply_class, bad.reply), (good.reply_class, good.reply)]

    bad, good = asyncio.run(main())
    assert bad == (ReplyClass.HARD, "550 5.1.1 no such user")
    assert good == (ReplyClass.DELIVERED, "250 queued")
    assert after_refusal == [b".\r\n", b"RSET\r\n"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_a_refused_sender_is_a_relay_failure_either_way(pipelining: bool) -> None:
    async def main(relay: ScriptedRelay) -> str:
        async with Relay(_settings(relay.port)) as client:
            assert client.pipelining is pipelining
            with pytest.raises(RelayFailure) as failure:
                await client.send("b@example.com", "one@example.org", b"Subject: x\r\n\r\n")
            # the connection stays in step: the next message goes through once healed
            relay.heal()
            outcome = await client.send("b@example.com", "two@example.org", b"Subject: y\r\n\r\n")
            assert outcome.delivered
            return failure.value.reply

    with ScriptedRelay(pipelining=pipelining) as relay:
        relay.mail_reply = "550 5.7.1 sender not allowed"
        reply = asyncio.run(main(relay))
        assert reply == "the relay refused the sender b@example.com: 550 5.7.1 sender not allowed"
        assert relay.delivered_to() == ["two@example.org"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_a_connection_dropped_at_rcpt_is_lost_before_data_either_way(pipelining: bool) -> None:
    async def main(relay: ScriptedRelay) -> tuple[bool, bool, ReplyClass]:
        async with Relay(_settings(relay.port)) as client:
            outcome = await client.send("b@example.com", "gone@example.org", b"Subject: x\r\n\r\n")
            return outcome.connection_lost, outcome.unanswered, outcome.reply_class

    with ScriptedRelay(pipelining=pipelining) as relay:
        relay.drop_at_rcpt.add("gone@example.org")
        lost, unanswered, kind = asyncio.run(main(relay))
    assert (lost, unanswered, kind) == (True, False, ReplyClass.SOFT)


async def _auth_server(
    offered: bytes, steps: list[tuple[bytes, bytes]], seen: list[bytes]
) -> Script:
    async def script(reader: Lines, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220-sink.example.net ESMTP\r\n220 two lines of greeting\r\n")
        assert (await reader.readline()).startswith(b"EHLO ")
        writer.write(b"250-sink.example.net\r\n250 AUTH " + offered + b"\r\n")
        for _, reply in steps:
            seen.append((await reader.readline()).rstrip(b"\r\n"))
            writer.write(reply + b"\r\n")
        await reader.readline()
        writer.write(b"221 bye\r\n")
        writer.close()

    return script


@pytest.mark.parametrize(
    ("offered", "steps"),
    [
        # PLAIN when offered: one line, the credentials in it
        (b"LOGIN PLAIN", [(b"AUTH PLAIN AGFsaWNlAHMzY3JldA==", b"235 ok")]),
        # LOGIN alone: the user with the command, the password after the 334
        (b"LOGIN", [(b"AUTH LOGIN YWxpY2U=", b"334 UGFzc3dvcmQ6"), (b"czNjcmV0", b"235 ok")]),
        # CRAM-MD5 first when offered: RFC 2195's own example (user tim, tanstaaftanstaaf)
        (
            b"PLAIN CRAM-MD5",
            [
                (b"AUTH CRAM-MD5", b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"),
                (b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", b"235 ok"),
            ],
        ),
    ],
    ids=["plain", "login", "cram-md5"],
)
def test_auth_speaks_the_mechanism_the_relay_offers(
    offered: bytes, steps: list[tuple[bytes, bytes]]
) -> None:
    seen: list[bytes] = []
    cram = b"CRAM-MD5" in offered
    user, password = ("tim", "tanstaaftanstaaf") if cram else ("alice", "s3cret")

    async def main() -> None:
        server, port = await _serve(await _auth_server(offered, steps, seen))
        async with server, Relay(_settings(port, username=user, password=password)):
            pass

    asyncio.run(main())
    assert seen == [sent for sent, _ in steps]


def test_a_refused_auth_is_a_relay_failure_with_the_relays_reply() -> None:
    seen: list[bytes] = []

    async def main() -> str:
        steps = [(b"", b"535 5.7.8 authentication failed")]
        server, port = await _serve(await _auth_server(b"PLAIN", steps, seen))
        async with server:
            with pytest.raises(RelayFailure) as failure:
                async with Relay(_settings(port, username="alice", password="nope")):
                    pass
            return failure.value.reply

    assert asyncio.run(main()).endswith("refused AUTH: 535 5.7.8 authentication failed")


def test_a_relay_without_ehlo_gets_helo_and_no_pipelining() -> None:
    """An old relay that refuses EHLO: lettr says HELO, assumes no extension, and sends each
    command on the reply to the one before."""
    seen: list[bytes] = []

    async def script(reader: Lines, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 old.example.net SMTP\r\n")
        seen.append((await reader.readline()).split(b" ")[0])
        writer.write(b"502 5.5.1 command not recognised\r\n")
        seen.append((await reader.readline()).split(b" ")[0])
        writer.write(b"250 old.example.net\r\n")
        for reply in (b"250 Ok", b"250 Ok", b"354 go on"):
            seen.append((await reader.readline()).split(b":")[0].rstrip(b"\r\n"))
            writer.write(reply + b"\r\n")
        await _data(reader)
        writer.write(b"250 queued\r\n")
        await reader.readline()
        writer.write(b"221 bye\r\n")
        writer.close()

    async def main() -> bool:
        server, port = await _serve(script)
        async with server, Relay(_settings(port)) as relay:
            assert not relay.pipelining
            outcome = await relay.send("b@example.com", "one@example.org", b"Subject: x\r\n\r\n")
            return outcome.delivered

    assert asyncio.run(main())
    assert seen == [b"EHLO", b"HELO", b"MAIL FROM", b"RCPT TO", b"DATA"]
