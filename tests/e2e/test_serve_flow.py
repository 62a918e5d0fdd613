"""One report's life through a real `embargo serve`: set up with the `embargo` command, driven over HTTP
from `received` to `confirmed`, with an attachment, and nothing of it left in clear at rest (database,
sealed files, e-mail written to the data dir, server output)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable

import pytest

from tests.e2e.conftest import Instance, Server

pytestmark = pytest.mark.e2e
MAIL_TIMEOUT = 30


def _marker(name: str) -> str:
    return f"{name}-{secrets.token_hex(8)}"


def multipart(field: str, filename: str, content_type: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, and its Content-Type."""
    boundary = f"embargo-e2e-{secrets.token_hex(16)}"
    assert boundary.encode() not in content
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'.encode(),
            f"Content-Type: {content_type}\r\n\r\n".encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f"multipart/form-data; boundary={boundary}"


def plaintext_hits(stored: dict[str, bytes], markers: Iterable[str]) -> list[str]:
    """Where a marker appears as UTF-8, or hex-encoded as pg_dump writes a bytea column."""
    hits = []
    for name, blob in stored.items():
        lowered = blob.lower()
        for marker in markers:
            raw = marker.encode()
            if raw in blob:
                hits.append(f"{marker!r} in {name}")
            elif raw.hex().encode() in lowered:
                hits.append(f"{marker!r} hex-encoded in {name}")
    return hits


def decoded_mail(stored: dict[str, bytes]) -> dict[str, bytes]:
    """The headers and bodies of the .eml files, decoded: quoted-printable may wrap a word across lines,
    and base64 hides it entirely."""
    decoded = {}
    for name, blob in stored.items():
        if not name.endswith(".eml"):
            continue
        message = email.message_from_bytes(blob, policy=email.policy.default)
        parts = [f"{key}: {value}".encode() for key, value in message.items()]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload)
        decoded[f"{name} (decoded)"] = b"\n".join(parts)
    return decoded


def _set_up_with_the_cli(instance: Instance) -> dict[str, str]:
    """Creates the project and its people with the `embargo` command; returns an API token for each."""
    instance.run("migrate")

    created = instance.run(
        "project", "create", "demo-lib", "--name", "Demo lib", "--package", "PyPI:demo-lib", "--json"
    )
    assert json.loads(created.stdout) == {
        "slug": "demo-lib", "name": "Demo lib", "repository_url": "", "package": "PyPI:demo-lib",
    }  # fmt: skip
    again = instance.run("project", "create", "demo-lib", "--name", "Demo lib", expect=1)
    assert again.stdout == ""
    assert again.stderr.startswith("embargo: error: ")
    assert "demo-lib" in again.stderr
    usage = instance.run("project", "add-member", "demo-lib", "owner@example.org", "--role", "king", expect=2)
    assert "usage: embargo project add-member" in usage.stderr
    assert "invalid choice" in usage.stderr
    assert instance.run("project", "create", expect=2).stderr.startswith("usage: ")

    people = ("owner", "reporter", "outsider")
    instance.run_together(*[("user", "create", f"{p}@example.org", "--name", p.title()) for p in people])
    instance.run("project", "add-member", "demo-lib", "owner@example.org", "--role", "owner")

    tokens = {}
    printed = instance.run_together(*[("token", "create", f"{p}@example.org") for p in people])
    for person, output in zip(people, printed, strict=True):
        token = output.strip()
        assert output == token + "\n", "`embargo token create` prints the token and nothing else"
        assert len(token) >= 20
        assert " " not in token
        tokens[person] = token
    return tokens


def test_a_report_goes_from_received_to_confirmed_through_a_real_server(
    instance: Instance, serve: Callable[..., Server]
) -> None:
    tokens = _set_up_with_the_cli(instance)
    server = serve()
    owner, reporter, outsider = tokens["owner"], tokens["reporter"], tokens["outsider"]
    secret = {name: _marker(name) for name in (
        "Title", "Description", "Reproduction", "Impact", "Acknowledgement", "Question", "Reply",
        "Confirmation", "Attachment", "Filename",
    )}  # fmt: skip

    # The reporter sends a report.
    sent = server.call(
        "POST",
        "/api/v1/projects/demo-lib/reports",
        {
            "title": f"Header smuggling {secret['Title']}",
            "description": f"The proxy credentials leak: {secret['Description']}",
            "reproduction": f"curl -H 'X: {secret['Reproduction']}' http://localhost/",
            "impact": f"Credential theft {secret['Impact']}",
        },
        token=reporter,
    )
    assert sent.status == 201, sent.text
    rid = sent.json["id"]
    assert sent.json["state"] == "received"
    assert sent.json["title"] == f"Header smuggling {secret['Title']}"

    # The owner finds it in the project's inbox; nobody else sees it.
    inbox = server.call("GET", "/api/v1/projects/demo-lib/reports", token=owner)
    assert inbox.status == 200, inbox.text
    assert [(r["id"], r["state"], r["title"]) for r in inbox.json["items"]] == [
        (rid, "received", f"Header smuggling {secret['Title']}")
    ]
    assert server.call("GET", "/api/v1/projects/demo-lib/reports", token=outsider).status == 404
    for path in (f"/api/v1/reports/{rid}", f"/api/v1/reports/{rid}/messages"):
        hidden = server.call("GET", path, token=outsider)
        assert hidden.status == 404, hidden.text
        assert hidden.json["error"]["code"] == "not_found"
        assert secret["Title"] not in hidden.text
    assert server.call("GET", f"/api/v1/reports/{rid}").status == 401

    def move(to: str, comment: str) -> dict:
        response = server.call(
            "POST", f"/api/v1/reports/{rid}/transitions", {"to": to, "comment": comment}, token=owner
        )
        assert response.status == 200, response.text
        return response.json

    acknowledged = move("acknowledged", f"Thank you, we are looking. {secret['Acknowledgement']}")
    assert acknowledged["state"] == "acknowledged"
    assert move("needs_info", f"Which version? {secret['Question']}")["state"] == "needs_info"

    # The reporter's reply returns the report to where it was.
    reply = server.call(
        "POST", f"/api/v1/reports/{rid}/messages", {"body": f"2.31.0 {secret['Reply']}"}, token=reporter
    )
    assert reply.status == 201, reply.text
    assert server.call("GET", f"/api/v1/reports/{rid}", token=reporter).json["state"] == "acknowledged"

    confirmed = move("confirmed", f"Reproduced. {secret['Confirmation']}")
    assert confirmed["state"] == "confirmed"
    assert confirmed["first_response_at"] is not None

    thread = server.call("GET", f"/api/v1/reports/{rid}/messages", token=reporter)
    assert thread.status == 200, thread.text
    assert [(m["transition_to"], m["author"]["role"]) for m in thread.json["items"]] == [
        ("acknowledged", "team"), ("needs_info", "team"), (None, "reporter"), ("confirmed", "team"),
    ]  # fmt: skip
    assert thread.json["items"][2]["body"] == f"2.31.0 {secret['Reply']}"

    # An attachment goes in and comes out byte for byte, as a download.
    content = os.urandom(3000) + f"proof of concept {secret['Attachment']}\n".encode() + os.urandom(3000)
    filename = f"poc-{secret['Filename']}.bin"
    body, content_type = multipart("file", filename, "application/octet-stream", content)
    uploaded = server.call(
        "POST", f"/api/v1/reports/{rid}/attachments", raw=body, content_type=content_type, token=reporter
    )
    assert uploaded.status == 201, uploaded.text
    digest = hashlib.sha256(content).hexdigest()
    assert (uploaded.json["filename"], uploaded.json["size"], uploaded.json["sha256"]) == (
        filename, len(content), digest,
    )  # fmt: skip
    download_url = uploaded.json["download_url"]
    downloaded = server.call("GET", download_url, token=owner)
    assert downloaded.status == 200, downloaded.text
    assert hashlib.sha256(downloaded.body).hexdigest() == digest
    assert downloaded.header("Content-Disposition").startswith("attachment;")
    assert filename in downloaded.header("Content-Disposition")
    assert downloaded.header("Content-Type") == "application/octet-stream"
    assert downloaded.header("X-Content-Type-Options") == "nosniff"
    refused = server.call("GET", download_url, token=outsider)
    assert refused.status == 404
    assert secret["Attachment"].encode() not in refused.body

    # The server's worker delivers the notifications (without an SMTP server, as .eml files in the data
    # dir); after the server stopped, one more pass delivers what it had not reached yet.
    mail = instance.data_dir / "mail"
    deadline = time.monotonic() + MAIL_TIMEOUT
    while not any(mail.glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(mail.glob("*.eml")), f"embargo serve delivered no e-mail in {MAIL_TIMEOUT} s"

    # Nothing of it is stored in clear: neither while the server runs (SQLite's -wal file holds the
    # latest pages then) nor after it stopped.
    running = {f"{name} (server running)": blob for name, blob in instance.stored_files().items()}
    assert server.stop() == 0, server.log()
    assert json.loads(instance.run("worker", "--once", "--json").stdout)["failed"] == 0
    stored = {**running, **instance.stored_files()}
    if instance.database.url:
        assert "embargo.sqlite3" not in instance.stored_files(), "the PostgreSQL run wrote a SQLite database"
        stored["pg_dump"] = instance.database.dump()
    else:
        assert "embargo.sqlite3" in stored
    assert any(name.startswith("files/") for name in stored), sorted(stored)
    mails = decoded_mail(stored)
    assert any(rid.encode() in body for body in mails.values()), "the e-mail names the report by its ID"
    stored.update(mails)
    # The search does find what is stored in clear (the scan would see the secrets if they were there).
    everything = b"".join(stored.values())
    assert b"demo-lib" in everything
    assert b"reporter@example.org" in everything
    assert digest.encode() in everything

    assert plaintext_hits(stored, secret.values()) == []
    assert plaintext_hits({"server output": server.log().encode()}, secret.values()) == []
