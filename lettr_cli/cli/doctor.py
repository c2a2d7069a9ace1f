"""`lettr doctor`: the store, the configuration, the relay, the sending domains, tracking."""

from __future__ import annotations

import typer

from lettr_cli.cli.command import DnsTimeoutOption, JsonFlag, NameserverOption
from lettr_cli.cli.output import emit_json, emit_line, say
from lettr_cli.cli.runtime import runtime
from lettr_cli.errors import EXIT_FAILURE

_STATUS_WIDTH = 6
_CHECK_WIDTH = 9


def doctor(
    ctx: typer.Context,
    nameserver: NameserverOption = None,
    timeout: DnsTimeoutOption = 5.0,
    as_json: JsonFlag = False,
) -> None:
    """Check the store, the configuration, the relay, each sending domain's DNS records and
    the tracking URL; one line per check, exit 1 if any fails. Changes nothing."""
    import asyncio

    from lettr_cli.doctor import Check, run_checks

    state = runtime(ctx)

    async def make_checks() -> list[Check]:
        done: list[Check] = []
        checks = run_checks(
            state.store_path,
            home=state.home,
            environ=state.environ,
            nameserver=nameserver,
            timeout=timeout,
        )
        async for check in checks:  # each line as soon as its check is made (the relay may be slow)
            done.append(check)
            if not as_json:
                status = "ok" if check.ok else "FAIL"
                emit_line(f"{status:<{_STATUS_WIDTH}}{check.check:<{_CHECK_WIDTH}} {check.detail}")
        return done

    done = asyncio.run(make_checks())
    if as_json:
        emit_json([check.to_json() for check in done])
    failed = [check.check for check in done if not check.ok]
    if failed:
        if not as_json:
            say(f"{len(failed)} of {len(done)} checks failed: {', '.join(failed)}")
        raise typer.Exit(EXIT_FAILURE)
