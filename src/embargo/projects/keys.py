"""The project's OpenPGP key: it signs embargo notices and announcements.

Generating or uploading a key when one is active retires the old one (rotation): the retired key's public part
stays published in `pgp-key.asc` so that earlier signatures can still be checked. The secret key is sealed at
rest and leaves this module only towards `embargo.vault.openpgp`; it is never in a response, a log or an event."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.db import transaction

from embargo import clock
from embargo.accounts.access import Permission
from embargo.accounts.models import User
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.projects.actions import ProjectError, require_permission
from embargo.projects.models import Project, ProjectKey
from embargo.vault import openpgp


def active_key(project: Project) -> ProjectKey | None:
    return ProjectKey.objects.filter(project=project, retired_at__isnull=True).first()


def has_active_key(project: Project) -> bool:
    return ProjectKey.objects.filter(project=project, retired_at__isnull=True).exists()


def published_keys(project: Project) -> list[ProjectKey]:
    """The active key first, then the retired ones, the most recently retired first."""
    keys = list(ProjectKey.objects.filter(project=project).defer("secret_key").order_by("-created_at", "-id"))
    return sorted(keys, key=lambda k: (k.retired_at is not None, -(k.retired_at or k.created_at).timestamp()))


def key_address() -> str:
    """The address in the key's user ID: the one the signed mail comes from."""
    return parseaddr(settings.EMBARGO_MAIL_FROM)[1] or "embargo@localhost"


def _install(project: Project, pair: openpgp.GeneratedKey, tag: Tag, *, acting_user: User | None) -> ProjectKey:
    with transaction.atomic():
        # One active key per project: lock the project so that two rotations cannot both retire the same key.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        now = clock.now()
        old = ProjectKey.objects.filter(project=project, retired_at__isnull=True).defer("secret_key").first()
        if old is not None:
            old.retired_at = now
            old.save(update_fields=["retired_at"])
        key = ProjectKey.objects.create(
            project=project,
            fingerprint=pair.fingerprint,
            public_key=pair.public_armored,
            secret_key=pair.secret_armored,
            expires_at=pair.expires_at,
            created_at=now,
        )
        record_event(
            tag, actor=acting_user, target=project, project=project,
            data={"fingerprint": key.fingerprint, "expires_at": key.expires_at.isoformat() if key.expires_at else None,
                  "retired": old.fingerprint if old is not None else None},
        )  # fmt: skip
    return key


def do_generate_project_key(project: Project, *, acting_user: User | None) -> ProjectKey:
    """A new ed25519/cv25519 key for the project, without expiry; the active one, if any, is retired."""
    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    pair = openpgp.generate_key(f"{project.name} security releases", key_address())
    return _install(project, pair, Tag.PROJECT_KEY_GENERATED, acting_user=acting_user)


def do_upload_project_key(project: Project, secret_armored: str, *, acting_user: User | None) -> ProjectKey:
    """The project's own secret key (ASCII-armoured, without a passphrase) that can sign; the active one, if
    any, is retired. A key that cannot serve is refused with the reason."""
    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    try:
        pair = openpgp.inspect_secret_key(secret_armored, now=clock.now())
    except openpgp.KeyRefused as e:
        raise ProjectError(f"The key was refused: {e.reason}.", field="secret_key", code="key_refused") from None
    if ProjectKey.objects.filter(project=project, fingerprint=pair.fingerprint, retired_at__isnull=True).exists():
        raise ProjectError("This key is the project's key already.", field="secret_key", code="key_refused")
    return _install(project, pair, Tag.PROJECT_KEY_UPLOADED, acting_user=acting_user)


def keyring_text(project: Project) -> str:
    """`pgp-key.asc`: every public key of the project, each armoured block after a comment line that names
    it; None-safe for a project without keys (empty text)."""
    blocks = []
    for key in published_keys(project):
        state = f"retired {key.retired_at:%Y-%m-%d}" if key.retired_at else "active"
        expiry = f", expires {key.expires_at:%Y-%m-%d}" if key.expires_at else ""
        blocks.append(
            f"# {project.name}: {state} key {openpgp.fingerprint_display(key.fingerprint)}, "
            f"created {key.created_at:%Y-%m-%d}{expiry}\n{key.public_key.strip()}\n"
        )
    return "\n".join(blocks)
