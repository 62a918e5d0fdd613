"""Set-up through the real actions and the real HTTP API, as STYLE.md asks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from embargo.accounts.actions import do_create_token, do_create_user
from embargo.accounts.models import User
from embargo.projects.actions import do_add_member, do_change_project, do_create_project
from embargo.projects.models import Project

SECRET_TITLE = "Zebra-7741 header smuggling in redirects"
SECRET_TEXT = "Quokka-3389: send a crafted Location header and the proxy credentials leak."


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Api:
    """The HTTP API as a client sees it, through Django's test client (the whole stack but the socket)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.client = Client()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **kw: Any) -> Response:
        kwargs: dict[str, Any] = {"headers": self._headers(), **kw}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None and "files" not in kw:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        if "files" in kwargs:
            kwargs["data"] = kwargs.pop("files")
        response = getattr(self.client, method.lower())(path, **kwargs)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return Response(response.status_code, content, dict(response.items()))

    def get(self, path: str, **kw: Any) -> Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.call("DELETE", path, **kw)


def make_user(email: str, name: str = "") -> tuple[User, Api]:
    user = do_create_user(email, name=name or email.split("@")[0].title(), verified=True, acting_user=None)
    return user, Api(do_create_token(user, acting_user=None))


def make_project(slug: str = "requests", **members: str) -> Project:
    """`members` maps e-mail local parts to roles, e.g. make_project(alice="owner")."""
    project = do_create_project(slug, name=slug.title(), package="PyPI:" + slug, acting_user=None)
    for local, role in members.items():
        user = User.objects.filter(email=f"{local}@example.org").first() or make_user(f"{local}@example.org")[0]
        do_add_member(project, user, role, acting_user=None)
    return project


def submit(api: Api, slug: str = "requests", **fields: Any) -> dict[str, Any]:
    body = {"title": SECRET_TITLE, "description": SECRET_TEXT, **fields}
    response = api.post(f"/api/v1/projects/{slug}/reports", body)
    assert response.status == 201, response.text
    return response.json


def report_awaiting_confirmation(
    team: dict[str, Api], *, internal_note: str, public_answer: str, attachment: bytes
) -> dict[str, str]:
    """The permission matrices' report: sent by the reporter with a proof of concept, a collaborator invited, an
    internal note and a public answer, an attachment, and a fix put to the reporter (fix_ready)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    report_id = submit(team["reporter"], reproduction="import sys; sys.exit(1)")["id"]
    base = f"/api/v1/reports/{report_id}"
    grant = team["owner"].post(f"{base}/collaborators", {"email": "collaborator@example.org"})
    assert grant.status == 201, grant.text
    for body, internal in ((internal_note, True), (public_answer, False)):
        posted = team["maintainer"].post(f"{base}/messages", {"body": body, "internal": internal})
        assert posted.status == 201, posted.text
    attached = team["reporter"].post(f"{base}/attachments", files={"file": SimpleUploadedFile("poc.txt", attachment)})
    assert attached.status == 201, attached.text
    Project.objects.filter(slug="requests").update(repository_url="https://example.org/requests.git")
    confirmed = team["maintainer"].post(f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."})
    assert confirmed.status == 200, confirmed.text
    fix = team["maintainer"].post(f"{base}/fixes", {"kind": "patch", "description": "Strip the header."})
    assert fix.status == 201, fix.text
    assert team["maintainer"].post(f"{base}/transitions", {"to": "fix_ready"}).status == 200
    return {
        "report_id": report_id,
        "attachment_id": attached.json["id"],
        "collaborator_id": grant.json["user"]["id"],
        "fix_id": fix.json["id"],
    }


def turn_translation_on(settings: Any, report_id: str, *, url: str = "http://127.0.0.1:9") -> str:
    """The instance gets a translation service (nothing is sent unless a worker runs), an owner turns
    translation on, a maintainer says the report is in French, which queues its translations; returns the ID of
    the description's translation."""
    from embargo.accounts.access import Permission, access_report_by_id
    from embargo.languages.actions import do_set_language
    from embargo.languages.models import Translation
    from embargo.reports.models import Report

    settings.EMBARGO_TRANSLATION_PROVIDER = "libretranslate"
    settings.EMBARGO_TRANSLATION_URL = url
    settings.EMBARGO_ALLOW_PRIVATE_NETWORK = True
    report = Report.objects.select_related("project").get(public_id=report_id)
    owner = User.objects.get(email="owner@example.org")
    do_change_project(report.project, {"translation_enabled": True}, acting_user=owner)
    maintainer = User.objects.get(email="maintainer@example.org")
    access = access_report_by_id(maintainer, report_id, Permission.SET_LANGUAGE)
    do_set_language(access, language="fr", preferred_language=None, acting_user=maintainer)
    return Translation.objects.get(report=report, field="description").public_id


def transferred_in(report_id: str, *, from_slug: str = "other") -> str:
    """Records that the report came from the project `from_slug`, whose team asked to stay informed (the permission
    matrices' transfer: written as the action would leave it, without moving the report twice); returns its ID,
    which is also a stub of `from_slug`'s. tests/reports/test_transfers.py makes transfers through the action."""
    from embargo import clock
    from embargo.reports.models import Report, ReportTransfer

    report = Report.objects.select_related("project").get(public_id=report_id)
    source = Project.objects.get(slug=from_slug)
    by = User.objects.filter(memberships__project=source).order_by("id").first()
    assert by is not None
    transfer = ReportTransfer(
        report=report, from_project=source, to_project=report.project, by=by, at=clock.now(), keep_informed=True
    )
    transfer.note = "Belongs to the receiving project."
    transfer.save()
    return transfer.public_id
