"""The store: location, private files, pragmas, transactions, init and backup."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from lettr_cli.errors import ValidationError
from lettr_cli.store.engine import Store
from lettr_cli.store.location import parse_location
from lettr_cli.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_store_in_lettr_home(lettr, isolated_home: Path) -> None:
    result = lettr("init", "--json")
    assert result.exit_code == 0, result.stderr
    db = isolated_home / "lettr.db"
    assert result.json() == {"db": str(db), "schema_version": SCHEMA_VERSION, "created": True}
    assert db.is_file()


def test_init_on_an_existing_store_changes_nothing(lettr, isolated_home: Path) -> None:
    assert lettr("init").exit_code == 0
    lettr("config", "set", "smtp.host", "mail.example.com")
    again = lettr("init", "--json")
    assert again.exit_code == 0
    assert again.json()["created"] is False
    assert lettr("config", "get", "smtp.host").stdout == "mail.example.com\n"
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
    assert versions == [m.version for m in MIGRATIONS]


def test_init_in_words_says_where_the_store_is(lettr, isolated_home: Path) -> None:
    first = lettr("init")
    assert first.stdout == (
        f"Store created: {isolated_home / 'lettr.db'} (schema version {SCHEMA_VERSION})\n"
    )
    assert "already there" in lettr("init").stdout


def test_store_files_and_folders_are_private(lettr, tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "store.db"
    assert lettr("--db", str(db), "init").exit_code == 0
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700
    assert mode(db.parent.parent) == 0o700
    # While a connection is open the WAL pair exists; it is private too.
    store = Store(db)
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x)")
    with store.read() as session:
        session.connection().exec_driver_sql("SELECT * FROM t").all()
        for suffix in ("-wal", "-shm"):
            assert mode(Path(f"{db}{suffix}")) == 0o600
    store.close()


def test_an_existing_folder_keeps_its_mode(lettr, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert lettr("--db", str(folder / "x.db"), "init").exit_code == 0
    assert mode(folder) == 0o755


def test_default_store_is_in_the_platform_folder_without_lettr_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lettr_cli.cli.runtime import Runtime

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    runtime = Runtime(db=None, environ={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert runtime.store_path.name == "lettr.db"
    assert str(runtime.store_path.parent).endswith("lettr")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("store.db", Path.cwd() / "store.db"),
        ("/srv/lettr/x.db", Path("/srv/lettr/x.db")),
        ("sqlite:////srv/lettr/x.db", Path("/srv/lettr/x.db")),
        ("sqlite:///rel.db", Path.cwd() / "rel.db"),
        ("SQLITE:////srv/x.db", Path("/srv/x.db")),
    ],
)
def test_store_location_from_a_path_or_a_sqlite_url(value: str, expected: Path) -> None:
    assert parse_location(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "postgresql+psycopg2://lettr:hunter2@db.example.com/lettr",
        "mysql://lettr:hunter2@x/y",
        "sqlite://",
        "sqlite:///:memory:",
        "",
    ],
)
def test_other_store_urls_are_refused_without_echoing_secrets(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_location(value)
    assert "hunter2" not in caught.value.message


def test_a_postgres_url_names_a_server_and_its_password_is_never_echoed(
    lettr, tmp_path: Path
) -> None:
    result = lettr("--db", "postgresql://u:hunter2@127.0.0.1:1/db", "init")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [store_unavailable]: cannot reach the PostgreSQL server")
    assert "postgresql://u:***@127.0.0.1:1/db" in result.stderr
    assert "hunter2" not in result.stderr


def test_lettr_db_environment_variable_names_the_store(lettr, tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    result = lettr("init", "--json", env={"LETTR_DB": f"sqlite:///{db}"})
    assert result.json()["db"] == str(db)


def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db", busy_timeout=7, durability="full")
    with store.read() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    store.tune(busy_timeout=3, durability="normal")
    with store.read() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    store.close()


def test_configured_durability_and_busy_timeout_reach_the_connections(
    lettr, isolated_home: Path
) -> None:
    from lettr_cli.workspace import Workspace

    lettr("config", "set", "store.durability", "full")
    lettr("config", "set", "store.busy_timeout", "9")
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with ws.store.read() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 9000
    ws.close()


def test_writes_begin_immediate_so_read_then_write_never_fails(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.db", busy_timeout=10)
    migrate(store)
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        session.connection().exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with store.write() as session:
                    conn = session.connection()
                    n = conn.exec_driver_sql("SELECT n FROM counter").scalar()
                    time.sleep(0.001)
                    conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.read() as session:
        assert session.connection().exec_driver_sql("SELECT n FROM counter").scalar() == 100
    store.close()


def test_a_failed_write_is_rolled_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x)")
    with pytest.raises(RuntimeError), store.write() as session:
        session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    with store.read() as session:
        assert session.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    store.close()


def test_a_file_that_is_not_a_store_is_a_clear_error(lettr, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("these are not the pages you are looking for\n" * 100)
    result = lettr("--db", str(bogus), "init")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [store_unavailable]: cannot open the store")
    assert bogus.read_text().startswith("these are not")


WRITER = """
import sys, time
from pathlib import Path
from lettr_cli.store.engine import Store
store = Store(Path(sys.argv[1]))
deadline = time.monotonic() + float(sys.argv[2])
i = 0
while time.monotonic() < deadline:
    with store.write() as session:
        conn = session.connection()
        conn.exec_driver_sql("INSERT INTO log (n, pad) VALUES (?, ?)", (i, "x" * 500))
        conn.exec_driver_sql("UPDATE total SET n = n + 1")
    i += 1
print(i)
"""


def test_backup_is_consistent_while_another_process_writes(lettr, tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    store = Store(db)
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE log (n INTEGER, pad TEXT)")
        session.connection().exec_driver_sql("CREATE TABLE total (n INTEGER)")
        session.connection().exec_driver_sql("INSERT INTO total VALUES (0)")
    store.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), "3"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    copies = []
    for i in range(3):
        target = tmp_path / f"copy{i}.db"
        result = lettr("--db", str(db), "store", "backup", str(target), "--json")
        assert result.exit_code == 0, result.stderr
        assert result.json() == {"path": str(target), "bytes": target.stat().st_size}
        copies.append(target)
        time.sleep(0.3)
    assert int(writer.communicate(timeout=30)[0]) > 0
    for target in copies:
        assert mode(target) == 0o600
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows, total = conn.execute("SELECT (SELECT count(*) FROM log), n FROM total").fetchone()
            assert rows == total  # one snapshot: both tables from the same moment
        assert not Path(f"{target}-wal").exists()


def test_backup_over_an_existing_file_needs_yes(lettr, tmp_path: Path) -> None:
    target = tmp_path / "old.db"
    target.write_bytes(b"precious")
    refused = lettr("store", "backup", str(target))
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error [confirmation_required]:")
    assert target.read_bytes() == b"precious"
    done = lettr("store", "backup", str(target), "--yes")
    assert done.exit_code == 0, done.stderr
    assert target.read_bytes().startswith(b"SQLite format 3")


def test_backup_never_overwrites_the_store_itself(lettr, isolated_home: Path) -> None:
    lettr("init")
    result = lettr("store", "backup", str(isolated_home / "lettr.db"), "--yes")
    assert result.exit_code == 1
    assert "cannot overwrite the store itself" in result.stderr
