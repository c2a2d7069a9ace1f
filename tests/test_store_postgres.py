"""A store on PostgreSQL: the URL, its password never shown, the migrations, byte-order names,
64-bit ids, and the commands that assumed a file (backup, doctor, the events archive)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lettr_cli.errors import ResourceAlreadyExists, StoreUnavailable, ValidationError
from lettr_cli.store.engine import Store
from lettr_cli.store.location import ServerUrl, masked, parse_location
from lettr_cli.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate

SECRET = "pa55-w0rd"


def with_password(url: str, password: str = SECRET) -> str:
    return url.replace("lettr_test@", f"lettr_test:{password}@", 1)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://u:secret@db.example:5432/lettr", "postgresql://u:***@db.example:5432/lettr"),
        ("postgresql+psycopg://u:s@x@h/d", "postgresql+psycopg://u:***@h/d"),
        (
            "postgresql://u@h/d?password=secret&sslmode=require",
            "postgresql://u@h/d?password=***&sslmode=require",
        ),
        ("postgresql://h/d", "postgresql://h/d"),
    ],
)
def test_server_urls_are_parsed_and_shown_without_their_password(text: str, shown: str) -> None:
    location = parse_location(text)
    assert isinstance(location, ServerUrl)
    assert str(location) == shown == masked(text)
    assert "secret" not in repr(location)
    assert location.driver_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("postgresql+psycopg2://u@h/d", "not supported"),
        ("mysql://u:secret@h/d", "not supported"),
        ("postgresql://u:secret@h", "names no database"),
    ],
)
def test_other_urls_are_refused_without_their_password(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_location(text)
    assert message in caught.value.message
    assert "secret" not in caught.value.message


def test_init_migrates_an_empty_database_and_every_command_works(lettr, pg_server) -> None:
    if not hasattr(pg_server, "new_database"):
        pytest.skip(f"no PostgreSQL here: {pg_server}")
    url = pg_server.new_database(migrated=False)
    try:
        env = {"LETTR_DB": with_password(url)}
        first = lettr("init", "--json", env=env)
        assert first.exit_code == 0, first.stderr
        assert first.json() == {
            "db": masked(with_password(url)),
            "schema_version": SCHEMA_VERSION,
            "created": True,
        }
        assert SECRET not in first.stdout
        again = lettr("init", env=env)
        assert "already there" in again.stdout and SECRET not in again.stdout
        store = Store(parse_location(url))
        try:
            with store.connect() as conn, conn.begin():
                versions = conn.execute(sa.text("SELECT version FROM lettr_migrations")).all()
        finally:
            store.close()
        assert sorted(v for (v,) in versions) == [m.version for m in MIGRATIONS]
    finally:
        pg_server.drop_database(url)


def test_names_sort_in_byte_order_and_counted_ids_are_64_bit(lettr, each_engine: str) -> None:
    for name in ("beta", "Zeta", "alpha", "Äpfel", "Alpha"):
        assert lettr("list", "create", name).exit_code == 0
    listed = [row["name"] for row in lettr("list", "list", "--json").json()]
    assert listed == sorted(listed, key=lambda n: n.encode())
    if each_engine == "sqlite":
        return
    store = Store(parse_location(each_engine))
    try:
        with store.connect() as conn, conn.begin():
            kinds = dict(
                conn.execute(
                    sa.text(
                        "SELECT table_name || '.' || column_name, data_type FROM "
                        "information_schema.columns WHERE table_schema = current_schema() AND "
                        "(column_name = 'id' OR column_name = 'outbox_id')"
                    )
                ).all()
            )
            collations = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND data_type IN ('character varying', 'text') AND "
                    "COALESCE(collation_name, '') <> 'C'"
                )
            ).scalar_one()
    finally:
        store.close()
    for counted in ("outbox.id", "events.id", "events.outbox_id", "activity.id", "link_clicks.id"):
        assert kinds[counted] == "bigint", counted
    assert collations == 0


def test_two_stores_migrating_at_once_apply_each_step_once(pg_server) -> None:
    if not hasattr(pg_server, "new_database"):
        pytest.skip(f"no PostgreSQL here: {pg_server}")
    import threading

    url = pg_server.new_database(migrated=False)
    stores = [Store(parse_location(url)) for _ in range(3)]
    results: list[Any] = []
    threads = [threading.Thread(target=lambda s=s: results.append(migrate(s))) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [SCHEMA_VERSION] * 3
        with stores[0].connect() as conn, conn.begin():
            count = conn.execute(sa.text("SELECT count(*) FROM lettr_migrations")).scalar_one()
        assert count == len(MIGRATIONS)
    finally:
        for store in stores:
            store.close()
        pg_server.drop_database(url)


def test_backup_on_postgresql_refuses_and_names_pg_dump(lettr, pg_url: str, tmp_path) -> None:
    target = tmp_path / "copy.db"
    result = lettr("--db", with_password(pg_url), "store", "backup", str(target), "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert "pg_dump" in error["message"] and SECRET not in error["message"]
    assert not target.exists()


def test_doctor_checks_the_server_and_schema_version(lettr, pg_url: str) -> None:
    result = lettr("--db", with_password(pg_url), "doctor", "--json")
    store = next(check for check in result.json() if check["check"] == "store")
    assert store["ok"] is True
    assert f"schema version {SCHEMA_VERSION}" in store["detail"]
    assert "PostgreSQL" in store["detail"] and "quick_check" not in store["detail"]
    assert SECRET not in result.stdout + result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_store_unavailable_without_the_password(lettr) -> None:
    url = f"postgresql://ann:{SECRET}@127.0.0.1:{_closed_port()}/lettr"
    result = lettr("--db", url, "contact", "list", "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "store_unavailable"
    assert "cannot reach the PostgreSQL server" in error["message"]
    assert SECRET not in result.stderr and SECRET not in result.stdout
    doctor = lettr("--db", url, "doctor", "--json")
    assert doctor.exit_code == 1
    assert SECRET not in doctor.stdout + doctor.stderr
    assert doctor.json()[0]["ok"] is False


def test_a_missing_driver_says_how_to_install_it(tmp_path: Path) -> None:
    # A fresh interpreter in which psycopg cannot be imported.
    code = (
        "import sys\nsys.modules['psycopg'] = None\n"
        "from lettr_cli.cli.main import main\nsys.argv = ['lettr', *sys.argv[1:]]\nmain()\n"
    )
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code, "--db", f"postgresql://u:{SECRET}@127.0.0.1:1/x", "init"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "store_unavailable" in done.stderr
    assert "pip install 'lettr-cli[postgres]'" in done.stderr
    assert SECRET not in done.stderr


def test_a_taken_unique_name_is_resource_already_exists(pg_url: str) -> None:
    store = Store(parse_location(pg_url))
    try:
        with store.connect("IMMEDIATE") as conn, conn.begin():
            conn.execute(sa.text("INSERT INTO suppressions VALUES ('a@x.org', 'bounced', now())"))
        taken = pytest.raises(ResourceAlreadyExists)
        with taken, store.connect("IMMEDIATE") as conn, conn.begin():
            conn.execute(sa.text("INSERT INTO suppressions VALUES ('a@x.org', 'x', now())"))
        with store.connect() as conn, conn.begin():
            rows = conn.execute(sa.text("SELECT status FROM suppressions")).scalars().all()
        assert rows == ["bounced"]  # nothing lost
    finally:
        store.close()


def test_a_writer_held_past_the_busy_timeout_is_store_unavailable(pg_url: str) -> None:
    from lettr_cli.store.failures import is_busy

    first = Store(parse_location(pg_url))
    second = Store(parse_location(pg_url), busy_timeout=0.5)
    try:
        refused = pytest.raises(StoreUnavailable)
        with first.connect("IMMEDIATE") as holder, holder.begin(), refused as caught:  # noqa: SIM117
            with second.connect("IMMEDIATE") as conn, conn.begin():
                pass
        assert is_busy(caught.value)
        assert "busy" in caught.value.message and "nothing was half-written" in caught.value.message
    finally:
        first.close()
        second.close()


def test_the_events_archive_goes_under_lettr_home_when_the_store_is_not_a_file(
    pg_url: str, isolated_home: Path
) -> None:
    from lettr_cli.analytics.archive import archive_folder

    store = Store(parse_location(pg_url))
    try:
        assert archive_folder(store, isolated_home) == isolated_home / "events-archive"
    finally:
        store.close()
