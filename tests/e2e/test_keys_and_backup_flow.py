"""An operator's key and backup work on a real instance: the key-encryption key is rotated while `embargo serve`
runs (the server goes on opening and sealing), the old key retired, the instance backed up, lost, and restored
from the archive; and through all of it nothing of a report's text (title, description, a message, an
attachment) is found in clear in the data dir (every file, .eml mail included), the server's and the commands'
output, the archive, or the PostgreSQL dump."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Instance, Server
from tests.e2e.test_serve_flow import _marker, _set_up_with_the_cli, decoded_mail, multipart, plaintext_hits

pytestmark = pytest.mark.e2e
PASSPHRASE = "a long passphrase for the e2e backup"


def _wipe(instance: Instance) -> None:
    """The disaster: the data dir's content and the database are gone."""
    for path in instance.data_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    if instance.database.url:
        import psycopg

        with psycopg.connect(instance.database.url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")


def test_rotation_backup_and_restore_keep_reports_readable_and_never_in_clear(
    instance: Instance, serve: Callable[..., Server], tmp_path: Path
) -> None:
    tokens = _set_up_with_the_cli(instance)
    owner, reporter = tokens["owner"], tokens["reporter"]
    secret = {name: _marker(name) for name in ("Title", "Description", "Message", "Attachment", "After")}
    server = serve()

    sent = server.call(
        "POST", "/api/v1/projects/demo-lib/reports",
        {"title": f"Overflow {secret['Title']}", "description": f"Details {secret['Description']}"}, token=reporter,
    )  # fmt: skip
    assert sent.status == 201, sent.text
    rid = sent.json["id"]
    posted = server.call("POST", f"/api/v1/reports/{rid}/messages", {"body": secret["Message"]}, token=owner)
    assert posted.status == 201, posted.text
    content = os.urandom(2000) + f"proof {secret['Attachment']}".encode()
    body, content_type = multipart("file", "poc.bin", "application/octet-stream", content)
    uploaded = server.call(
        "POST", f"/api/v1/reports/{rid}/attachments", raw=body, content_type=content_type, token=reporter
    )
    assert uploaded.status == 201, uploaded.text
    download_url = uploaded.json["download_url"]
    outputs: dict[str, bytes] = {}

    # The rotation runs while the server serves; the server picks up the new key ring without a restart.
    rotated = instance.run("keys", "rotate", "--batch", "1", "--json")
    outputs["keys rotate"] = (rotated.stdout + rotated.stderr).encode()
    result = json.loads(rotated.stdout)
    assert (result["complete"], result["new_kek"], result["remaining"]) == (True, True, 0)
    assert result["rewrapped"] >= 3
    assert "re-wrapping data keys" in rotated.stderr  # progress on stderr
    shown = server.call("GET", f"/api/v1/reports/{rid}", token=owner)
    assert shown.json["title"] == f"Overflow {secret['Title']}"
    after = server.call("POST", f"/api/v1/reports/{rid}/messages", {"body": secret["After"]}, token=reporter)
    assert after.status == 201, after.text
    assert server.call("GET", download_url, token=owner).body == content
    retired = instance.run("keys", "retire", "--json")
    outputs["keys retire"] = (retired.stdout + retired.stderr).encode()
    assert json.loads(retired.stdout)["retired"] == result["retirable"] != []

    assert server.stop() == 0, server.log()
    instance.run("worker", "--once")
    archive = tmp_path / "instance.backup"
    env = {**instance.env, "EMBARGO_BACKUP_PASSPHRASE": PASSPHRASE}
    backed_up = Instance(instance.data_dir, instance.database, env).run("backup", str(archive))
    outputs["backup"] = (backed_up.stdout + backed_up.stderr).encode()

    stored = instance.stored_files()
    stored.update(decoded_mail(stored))
    if instance.database.url:
        stored["pg_dump"] = instance.database.dump()
    stored["server output"] = server.log().encode()
    stored["archive"] = archive.read_bytes()
    stored.update(outputs)
    assert any(name.endswith(".eml") for name in stored), "the scan covers the mail written to the data dir"
    assert rid.encode() in b"".join(stored.values())  # what is not secret is found: the scan works
    assert plaintext_hits(stored, secret.values()) == []

    # The instance is lost, then restored from the archive alone: the reports open with the restored keys.
    _wipe(instance)
    restored = Instance(instance.data_dir, instance.database, env).run("restore", str(archive))
    assert "Restored" in restored.stdout
    server = serve()
    shown = server.call("GET", f"/api/v1/reports/{rid}", token=owner)
    assert shown.status == 200, shown.text
    assert (shown.json["title"], shown.json["description"]) == (
        f"Overflow {secret['Title']}", f"Details {secret['Description']}",
    )  # fmt: skip
    thread = server.call("GET", f"/api/v1/reports/{rid}/messages", token=owner).json["items"]
    assert {secret["Message"], secret["After"]} <= {m["body"] for m in thread}
    downloaded = server.call("GET", download_url, token=owner)
    assert hashlib.sha256(downloaded.body).hexdigest() == hashlib.sha256(content).hexdigest()
    assert server.stop() == 0, server.log()
    assert plaintext_hits({"restored server output": server.log().encode()}, secret.values()) == []
    assert plaintext_hits(instance.stored_files(), secret.values()) == []
