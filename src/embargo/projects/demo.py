"""The demo data of `make serve`: the project `requests` with the reference policy, and an owner."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction

from embargo.accounts.actions import do_create_token, do_create_user
from embargo.accounts.models import User
from embargo.projects.actions import do_add_member, do_create_project
from embargo.projects.models import Membership, Project, Role

DEMO_SLUG = "requests"
DEMO_OWNER = "owner@example.org"


def _credentials_file() -> Any:
    return settings.EMBARGO_DATA_DIR / "demo-owner.txt"


def load_demo() -> dict[str, Any]:
    created: list[str] = []
    with transaction.atomic():
        project = Project.objects.filter(slug=DEMO_SLUG).first()
        if project is None:
            project = do_create_project(
                DEMO_SLUG,
                name="Requests",
                repository_url="https://github.com/psf/requests",
                package="PyPI:requests",
                acting_user=None,
            )
            created.append("project")
        owner_exists = Membership.objects.filter(project=project, role=Role.OWNER).exists()
        if not owner_exists:
            password = secrets.token_urlsafe(12)
            owner = User.objects.filter(email=DEMO_OWNER).first() or do_create_user(
                DEMO_OWNER, name="Demo Owner", password=password, verified=True, acting_user=None
            )
            do_add_member(project, owner, Role.OWNER, acting_user=None)
            token = do_create_token(owner, name="demo", acting_user=None)
            path = _credentials_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"{DEMO_OWNER}\n{password}\n{token}\n")
            created.append("owner")
    lines = [
        "Demo project `requests` is ready"
        " (reference policy: answer within 12 h, 48 h at most; fix released within 14 days)."
    ]
    result: dict[str, Any] = {"project": DEMO_SLUG, "created": created}
    path = _credentials_file()
    if path.exists():
        email, password, token = path.read_text().splitlines()[:3]
        result.update(owner=email, password=password, token=token)
        lines += [
            f"Owner account: {email}  password: {password}",
            f"API token:     {token}",
            f"Try:  curl -H 'Authorization: Bearer {token}' "
            f"{settings.EMBARGO_BASE_URL}/api/v1/projects/requests/reports",
            f"(These demo credentials are kept in {path}; delete the file to stop showing them.)",
        ]
    else:
        lines.append("The project has an owner already; `embargo token create EMAIL` makes a new API token.")
    result["text"] = "\n".join(lines)
    return result
