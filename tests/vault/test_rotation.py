"""Key rotation: a new key-encryption key becomes current and re-wraps the data keys, never the data. Records are
made through the real API; the rotation is the one `embargo keys rotate` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from embargo.audit.models import Event
from embargo.reports.models import Attachment, Message, Report
from embargo.vault import files, keys, rotation
from embargo.vault.models import DataKey
from tests.helpers import SECRET_TEXT, SECRET_TITLE, Api, report_awaiting_confirmation

pytestmark = pytest.mark.django_db

NOTE, ANSWER, POC = "Internal: Wombat-5512 reproduces", "Public: Narwhal-2209 confirmed", b"poc Okapi-6620\n" * 50


def _sealed_state() -> dict[str, Any]:
    """Every sealed column as stored (ciphertext) and every sealed file as stored, by record."""
    state: dict[str, Any] = {}
    for model, columns in ((Report, ("title", "description")), (Message, ("body",)), (Attachment, ("filename",))):
        for row in model.objects.values("pk", *columns):
            state[f"{model.__name__}:{row['pk']}"] = {c: bytes(row[c]) for c in columns}
    root = Path(files.storage().location)  # type: ignore[attr-defined]
    for attachment in Attachment.objects.all():
        state[f"file:{attachment.storage_name}"] = (root / attachment.storage_name).read_bytes()
    return state


def _everything_opens(team: dict[str, Api], report_id: str, attachment_id: str) -> None:
    keys.forget()  # a fresh process's view: nothing unwrapped is cached
    shown = team["maintainer"].get(f"/api/v1/reports/{report_id}")
    assert shown.status == 200, shown.text
    assert (shown.json["title"], shown.json["description"]) == (SECRET_TITLE, SECRET_TEXT)
    thread = team["maintainer"].get(f"/api/v1/reports/{report_id}/messages").json["items"]
    assert {NOTE, ANSWER} <= {m["body"] for m in thread}
    download = team["maintainer"].get(f"/api/v1/reports/{report_id}/attachments/{attachment_id}")
    assert download.status == 200
    assert download.body == POC
    # Every sealed field of every record, not only those the pages show.
    for model in (Report, Message, Attachment):
        for record in model.objects.all():
            for field in record._meta.concrete_fields:
                getattr(record, field.attname)


@pytest.fixture
def sealed(team: dict[str, Api]) -> dict[str, str]:
    made = report_awaiting_confirmation(team, internal_note=NOTE, public_answer=ANSWER, attachment=POC)
    return {"report_id": made["report_id"], "attachment_id": made["attachment_id"]}


def test_a_rotation_rewraps_every_data_key_and_leaves_the_data_as_it_was(
    team: dict[str, Api], sealed: dict[str, str]
) -> None:
    old_kek = keys.ring().current_id
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {old_kek}
    wrapped_before = dict(DataKey.objects.values_list("pk", "wrapped"))
    data_before = _sealed_state()

    result = rotation.rotate(batch_size=2)

    new_kek = keys.ring().current_id
    assert new_kek != old_kek
    assert (result.current_kek, result.new_kek, result.remaining) == (new_kek, True, 0)
    assert result.rewrapped == len(wrapped_before) > 2
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new_kek}
    assert all(bytes(w) != bytes(wrapped_before[pk]) for pk, w in DataKey.objects.values_list("pk", "wrapped"))
    assert _sealed_state() == data_before  # byte for byte: the data was not re-encrypted
    assert old_kek in keys.ring().keys  # kept until retired
    _everything_opens(team, **sealed)
    # New records are sealed under the new key.
    assert team["reporter"].post(f"/api/v1/reports/{sealed['report_id']}/messages", {"body": "more"}).status == 201
    assert DataKey.objects.latest("pk").kek_id == new_kek


def test_an_interrupted_rotation_continues_where_it_stopped(team: dict[str, Api], sealed: dict[str, str]) -> None:
    old_kek = keys.ring().current_id
    total = DataKey.objects.count()

    stopped = rotation.rotate(batch_size=1, max_batches=1)

    assert (stopped.new_kek, stopped.rewrapped, stopped.remaining) == (True, 1, total - 1)
    assert not stopped.complete
    assert stopped.retirable == []
    # Half-way, both keys are in use and everything opens.
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {old_kek, stopped.current_kek}
    _everything_opens(team, **sealed)
    assert old_kek not in rotation.retire()  # still needed (keys of earlier tests in this process may go)
    assert old_kek in keys.ring().keys

    resumed = rotation.rotate(batch_size=1)

    # The rerun makes no third key: it finishes the rotation to the key the first run made.
    assert (resumed.new_kek, resumed.current_kek) == (False, stopped.current_kek)
    assert (resumed.rewrapped, resumed.remaining) == (total - 1, 0)
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {stopped.current_kek}
    assert old_kek in resumed.retirable
    _everything_opens(team, **sealed)


def test_an_old_key_is_retired_only_once_no_data_key_uses_it(team: dict[str, Api], sealed: dict[str, str]) -> None:
    old_kek = keys.ring().current_id
    result = rotation.rotate()
    assert old_kek in result.retirable

    retired = rotation.retire()

    assert old_kek in retired
    assert old_kek not in keys.ring().keys
    assert old_kek not in keys.key_file().read_text()
    assert keys.ring().current_id == result.current_kek
    _everything_opens(team, **sealed)
    # Both steps are in the audit log, with the key IDs and counts (never key material).
    rotated = Event.objects.get(tag="vault:keys_rotated")
    assert rotated.data["current_kek"] == result.current_kek
    assert rotated.data["rewrapped"] == result.rewrapped
    assert Event.objects.get(tag="vault:keys_retired").data["retired"] == retired


def test_another_process_sees_a_rotation_without_a_restart(sealed: dict[str, str]) -> None:
    before = keys.ring()
    # What `embargo keys rotate` in another process does to the file, without this process being told
    # (keys.ring() reloads when the file changes: the server keeps working during a rotation).
    added = {"feedbeef": b"\x01" * 32, **before.keys}
    keys._write(keys.key_file(), keys.serialize(keys.KeyRing(current_id="feedbeef", keys=added)))
    assert keys.ring().current_id == "feedbeef"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's pragma")
def test_sqlite_overwrites_deleted_content() -> None:
    # secure_delete: deleted rows (old ciphertext, wrapped keys) are overwritten with zeros, not left in free pages.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
