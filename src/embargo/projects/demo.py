"""The demo data of `make serve`: the project `requests` with the reference policy, an owner, an OpenPGP key
and two packagers (one with a key, one without)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction

from embargo.accounts.actions import do_create_token, do_create_user
from embargo.accounts.models import User
from embargo.projects.actions import do_add_member, do_add_packager, do_create_project
from embargo.projects.keys import do_generate_project_key, has_active_key
from embargo.projects.models import Membership, Packager, Project, Role
from embargo.vault.openpgp import generate_key

DEMO_SLUG = "requests"
DEMO_OWNER = "owner@example.org"
# (organisation, contact, address, with a key): example.org addresses, nobody receives them.
DEMO_PACKAGERS = (
    ("Debian Security Team", "Debian security", "security@debian.example.org", True),
    ("Fedora Packagers", "", "packagers@fedora.example.org", False),
)


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
        if not has_active_key(project):
            do_generate_project_key(project, acting_user=None)
            created.append("project key")
        listed = set(Packager.objects.filter(project=project).values_list("organisation", flat=True))
        for organisation, contact, address, with_key in DEMO_PACKAGERS:
            if organisation in listed:
                continue
            # Only the public part is kept: the secret one would live in the packager's mail client.
            key = generate_key(organisation, address).public_armored if with_key else ""
            do_add_packager(
                project,
                organisation=organisation,
                contact_name=contact,
                emails=[address],
                public_key=key,
                acting_user=None,
            )
            created.append(f"packager {organisation}")
    lines = [
        "Demo project `requests` is ready"
        " (reference policy: answer within 12 h, 48 h at most; fix released within 14 days),"
        " with an OpenPGP key and two packagers."
    ]
    result: dict[str, Any] = {"project": DEMO_SLUG, "created": created}
    path = _credentials_file()
    if path.exists():
        email, password, token = path.read_text().splitlines()[:3]
        result.update(owner=email, password=password, token=token)
        lines += [
            f"Owner account: {email}  password: {password}",
            "(Team members set up a second factor on first log-in: any authenticator app will do.)",
            f"API token:     {token}",
            f"Try:  curl -H 'Authorization: Bearer {token}' "
            f"{settings.EMBARGO_BASE_URL}/api/v1/projects/requests/reports",
            f"(These demo credentials are kept in {path}; delete the file to stop showing them.)",
        ]
    else:
        lines.append("The project has an owner already; `embargo token create EMAIL` makes a new API token.")
    result["text"] = "\n".join(lines)
    return result
