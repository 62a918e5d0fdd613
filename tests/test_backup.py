"""`embargo backup` and `embargo restore`: an instance with reports, messages, attachments and audit events goes
into an encrypted archive and comes back, on an empty data dir, identical: every row of every table (sealed
fields opened with the restored key ring), every attachment's content. Real `embargo` processes throughout, on
SQLite, and on PostgreSQL when EMBARGO_DATABASE_URL names a server (as the PostgreSQL pass of `make test` does)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.e2e

EMBARGO = Path(sys.executable).parent / "embargo"
ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct horse battery staple"
MARKERS = {name: f"{name}-{secrets.token_hex(8)}" for name in ("Title", "Description", "Message", "Attachment")}
TIMEOUT = 180

# Builds an instance through the real actions and the HTTP API (Django's test client, the stack but the socket).
SEED = """
import os, sys, json, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "embargo.settings")
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.helpers import make_project, make_user, report_awaiting_confirmation, submit
markers = json.loads(sys.argv[1])
team = {}
for role in ("owner", "maintainer", "reporter", "collaborator", "outsider", "stranger"):
    _, team[role] = make_user(f"{role}@example.org")
make_project("requests", owner="owner", maintainer="maintainer")
make_project("other", stranger="maintainer")
report_awaiting_confirmation(team, internal_note="Reproduced on 2.31", public_answer="Thanks, confirmed.",
                             attachment=os.urandom(5000))
rid = submit(team["reporter"], title=markers["Title"], description=markers["Description"])["id"]
assert team["maintainer"].post(f"/api/v1/reports/{rid}/messages", {"body": markers["Message"]}).status == 201
poc = SimpleUploadedFile("poc.txt", ("proof " + markers["Attachment"]).encode() * 100)
assert team["reporter"].post(f"/api/v1/reports/{rid}/attachments", files={"file": poc}).status == 201
"""

# Every row of every table, sealed fields opened (the descriptor unseals them), and the sha256 of every
# attachment's content read back through the vault.
DUMP = """
import os, json, hashlib, datetime, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "embargo.settings")
django.setup()
from django.apps import apps
from embargo.vault import files

def plain(value):
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)

tables = {}
for model in apps.get_models():
    rows = []
    for record in model.objects.order_by("pk"):
        rows.append({f.attname: plain(getattr(record, f.attname)) for f in model._meta.concrete_fields})
    tables[model._meta.label] = rows
Attachment = apps.get_model("reports", "Attachment")
contents = {
    a.public_id: hashlib.sha256(files.read(a.data_key, a.storage_name, f"reports.attachment:{a.public_id}")).hexdigest()
    for a in Attachment.objects.order_by("pk")
}
print(json.dumps({"tables": tables, "contents": contents}, sort_keys=True))
"""


class Instance:
    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EMBARGO_")}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.update(EMBARGO_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")  # `python -c` in ROOT: `tests` imports
        if database_url:
            self.env["EMBARGO_DATABASE_URL"] = database_url

    def run(self, *args: str, expect: int = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(EMBARGO), *args], env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == expect, f"embargo {args} exited {result.returncode}\n{result.stdout}{result.stderr}"
        return result

    def python(self, script: str, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script, *args], env=self.env, capture_output=True, text=True, timeout=TIMEOUT,
            check=False, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.data_dir)) for p in self.data_dir.rglob("*") if p.is_file())


@pytest.fixture
def new_instance(tmp_path: Path) -> Iterator[Callable[[str], Instance]]:
    """`new_instance(name)`: an empty data dir, and on PostgreSQL an empty database of its own."""
    server_url = os.environ.get("EMBARGO_DATABASE_URL", "")
    on_postgres = urlsplit(server_url).scheme in ("postgres", "postgresql")
    made: list[str] = []

    def make(name: str) -> Instance:
        data_dir = tmp_path / name
        data_dir.mkdir(mode=0o700)
        if not on_postgres:
            return Instance(data_dir, None)
        import psycopg
        from psycopg import sql

        database = f"embargo_backup_{secrets.token_hex(6)}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        made.append(database)
        return Instance(data_dir, urlunsplit(urlsplit(server_url)._replace(path="/" + database)))

    yield make
    if made:
        import psycopg
        from psycopg import sql

        with psycopg.connect(server_url, autocommit=True) as conn:
            for database in made:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


def _hits(blob: bytes) -> list[str]:
    return [
        name for name, marker in MARKERS.items() if marker.encode() in blob or marker.encode().hex().encode() in blob
    ]


def test_a_backup_restores_into_an_empty_data_dir_identical(
    new_instance: Callable[[str], Instance], passphrase_file: Path, tmp_path: Path
) -> None:
    source = new_instance("source")
    source.python(SEED, json.dumps(MARKERS))
    source.run("keys", "rotate", "--batch", "3")  # a ring of two keys, the old one retirable: both travel
    before = json.loads(source.python(DUMP))
    assert len(before["tables"]["reports.Report"]) == 2
    assert len(before["tables"]["reports.Message"]) >= 3
    assert len(before["contents"]) == 2
    assert before["tables"]["audit.Event"], "the audit log has events"
    assert any(MARKERS["Title"] == r["title"] for r in before["tables"]["reports.Report"])

    archive = tmp_path / "instance.embargo-backup"
    made = source.run("backup", str(archive), "--passphrase-file", str(passphrase_file), "--json")
    assert json.loads(made.stdout)["files"] >= 2
    assert archive.stat().st_mode & 0o077 == 0
    # Encrypted as a whole: no marker, not even SQLite's file header, in clear.
    blob = archive.read_bytes()
    assert _hits(blob) == []
    assert b"SQLite format 3" not in blob
    assert b"vault_datakey" not in blob

    target = new_instance("target")
    restored = target.run("restore", str(archive), env={"EMBARGO_BACKUP_PASSPHRASE": PASSPHRASE})
    assert "Restored" in restored.stdout
    target.run("migrate", "--quiet")
    after = json.loads(target.python(DUMP))

    assert after["contents"] == before["contents"]
    for label in ("reports.Report", "reports.Message", "reports.Attachment", "audit.Event", "vault.DataKey"):
        assert after["tables"][label] == before["tables"][label], label
    assert after == before  # and every other table


def test_a_wrong_passphrase_is_refused_and_writes_nothing(
    new_instance: Callable[[str], Instance], passphrase_file: Path, tmp_path: Path
) -> None:
    source = new_instance("source")
    source.run("migrate", "--quiet")
    archive = tmp_path / "backup"
    source.run("backup", str(archive), "--passphrase-file", str(passphrase_file))

    target = new_instance("target")
    refused = target.run("restore", str(archive), env={"EMBARGO_BACKUP_PASSPHRASE": "not the passphrase"}, expect=1)
    assert "wrong passphrase" in refused.stderr
    assert target.files() == ["keys/django-secret"]  # what every start of Embargo makes, nothing restored

    # A damaged archive (its end cut off) is refused as a whole, before anything is written.
    cut = tmp_path / "cut"
    cut.write_bytes(archive.read_bytes()[:-100])
    damaged = target.run("restore", str(cut), env={"EMBARGO_BACKUP_PASSPHRASE": PASSPHRASE}, expect=1)
    assert "damaged" in damaged.stderr or "cut short" in damaged.stderr
    assert target.files() == ["keys/django-secret"]


def test_restore_refuses_a_data_dir_that_holds_an_instance(
    new_instance: Callable[[str], Instance], passphrase_file: Path, tmp_path: Path
) -> None:
    source = new_instance("source")
    source.run("migrate", "--quiet")
    archive = tmp_path / "backup"
    source.run("backup", str(archive), "--passphrase-file", str(passphrase_file))
    again = source.run("backup", str(archive), "--passphrase-file", str(passphrase_file), expect=1)
    assert "exists" in again.stderr

    refused = source.run("restore", str(archive), "--passphrase-file", str(passphrase_file), expect=1)
    assert "not empty" in refused.stderr or "already holds" in refused.stderr


def test_the_passphrase_never_comes_from_the_command_line(
    new_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = new_instance("source")
    instance.run("migrate", "--quiet")
    assert "usage:" in instance.run("backup", str(tmp_path / "b"), "--passphrase", PASSPHRASE, expect=2).stderr
    missing = instance.run("backup", str(tmp_path / "b"), expect=2)  # no file, no variable, no terminal
    assert "EMBARGO_BACKUP_PASSPHRASE" in missing.stderr
    short = instance.run("backup", str(tmp_path / "b"), env={"EMBARGO_BACKUP_PASSPHRASE": "short"}, expect=1)
    assert "shorter" in short.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["data//tmp/escaped", "data/../escaped", "data/./keys/kek"])
def test_an_archive_entry_outside_the_data_dir_is_refused(
    new_instance: Callable[[str], Instance], tmp_path: Path, name: str
) -> None:
    import io
    import tarfile

    from embargo.backup import EncryptingWriter

    # A crafted archive (made with the passphrase, so it authenticates) whose entry would land elsewhere.
    archive = tmp_path / "crafted"
    with archive.open("wb") as out:
        writer = EncryptingWriter(out, PASSPHRASE)
        with tarfile.open(fileobj=writer, mode="w|") as tar:
            for member, data in (("manifest.json", b'{"format": 1, "engine": "sqlite"}'), (name, b"x")):
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        writer.close()
    target = new_instance("target")
    refused = target.run("restore", str(archive), env={"EMBARGO_BACKUP_PASSPHRASE": PASSPHRASE}, expect=1)
    assert "unexpected entry" in refused.stderr
    assert target.files() == ["keys/django-secret"]
    assert not (tmp_path / "escaped").exists()
