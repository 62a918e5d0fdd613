"""Every write to accounts. The acting user is None when an operator acts from the command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from embargo import clock
from embargo.accounts.models import ApiToken, User
from embargo.accounts.tokens import hash_token, new_token
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.domain.tokens import Scope
from embargo.errors import ActionError
from embargo.notifications.outbox import queue_email
from embargo.vault import openpgp

if TYPE_CHECKING:
    from embargo.projects.models import Project


class AccountError(ActionError):
    pass


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(f"{email!r} is not an e-mail address", field="email") from None
    return email


def do_create_user(
    email: str,
    *,
    name: str = "",
    password: str | None = None,
    verified: bool = False,
    acting_user: User | None,
) -> User:
    """A new account. `verified`: an operator vouches for the address (the command line), so no
    verification e-mail is needed."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise AccountError(f"a user with the e-mail {email} exists already")
    if password is not None:
        try:
            validate_password(password, User(email=email, name=name))
        except ValidationError as e:
            raise AccountError(" ".join(e.messages)) from None
    with transaction.atomic():
        user = User.objects.create_user(
            email, password, name=name.strip(), email_verified_at=clock.now() if verified else None
        )
        record_event(Tag.USER_CREATED, actor=acting_user, target=user, data={"email": email, "verified": verified})
    return user


def do_create_token(
    user: User,
    *,
    name: str = "",
    scope: str = "publish",
    projects: Sequence[Project] = (),
    expires_at: dt.datetime | None = None,
    acting_user: User | None,
) -> str:
    """Creates an API token for `user` and returns it; only its hash is kept. `scope`: read, write or publish
    (domain/tokens.py); `projects`: the only projects it reaches (none: all of the user's); `expires_at`: when it
    stops working (None: when revoked)."""
    if scope not in Scope.__members__.values():
        raise ActionError(f"`scope` is one of: {', '.join(Scope)}.", field="scope")
    if expires_at is not None and expires_at <= clock.now():
        raise ActionError("`expires_at` must be in the future.", field="expires_at")
    if len(name) > 100:
        raise ActionError("A token's name is at most 100 characters.", field="name")
    token = new_token()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user, name=name, token_hash=hash_token(token), prefix=token[:10], created_at=clock.now(),
            scope=scope, expires_at=expires_at,
        )  # fmt: skip
        if projects:
            row.projects.set(projects)
        record_event(
            Tag.TOKEN_CREATED, actor=acting_user, target=row,
            data={"user": user.public_id, "scope": scope, "projects": sorted(p.slug for p in projects),
                  "expires_at": expires_at.isoformat() if expires_at else None},
        )  # fmt: skip
    return token


def do_revoke_token(user: User, token_id: int, *, acting_user: User) -> ApiToken:
    """The person revokes one of their tokens (at once, for good)."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if row is None:
            raise ActionError("No such token of yours.", code="not_found", status=404)
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            row.save(update_fields=["revoked_at"])
            record_event(Tag.TOKEN_REVOKED, actor=acting_user, target=row, data={"user": user.public_id})
    return row


def do_find_or_add_contact(email: str, *, acting_user: User | None) -> User:
    """The account of `email`, made (without a password, unverified) if there is none yet: a reporter who
    writes without signing up, or a collaborator invited before they have an account. Whoever later proves
    control of the address (verification, sign-up, password reset) takes the account over."""
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    with transaction.atomic():
        user = User.objects.create_user(email, None)
        record_event(Tag.USER_CREATED, actor=acting_user, target=user, data={"email": email, "contact": True})
    return user


def do_sign_up(email: str, *, name: str, password: str) -> User | None:
    """A sign-up from the web. The answer is the same whether or not the address has an account, so the
    form tells nobody who uses Embargo: a new address gets a verification link, a known one a reset link."""
    from embargo.accounts.verification import password_reset_link, verification_link

    email = normalize_email(email)
    existing = User.objects.filter(email=email).first()
    with transaction.atomic():
        if existing is not None:
            queue_email("password_reset", to=existing.email, context={"link": password_reset_link(existing)})
            return None
        user = do_create_user(email, name=name, password=password, acting_user=None)
        record_event(Tag.EMAIL_VERIFICATION_SENT, actor=user, target=user, data={"email": email})
        queue_email("verify_email", to=email, context={"link": verification_link(user), "valid_days": 3})
    return user


def do_send_verification(user: User, *, acting_user: User) -> None:
    from embargo.accounts.verification import verification_link

    address = user.pending_email or user.email
    with transaction.atomic():
        record_event(Tag.EMAIL_VERIFICATION_SENT, actor=acting_user, target=user, data={"email": address})
        queue_email("verify_email", to=address, context={"link": verification_link(user), "valid_days": 3})


def do_verify_email(user: User) -> User:
    """The owner of the address followed the link: a pending address replaces the old one, and
    invitations and collaborator grants for the address take effect."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old = user.email
        if user.pending_email:
            if User.objects.filter(email=user.pending_email).exclude(pk=user.pk).exists():
                raise AccountError("Another account uses this address now.", field="email")
            user.email, user.pending_email = user.pending_email, ""
        user.email_verified_at = clock.now()
        user.save(update_fields=["email", "pending_email", "email_verified_at"])
        record_event(Tag.EMAIL_VERIFIED, actor=user, target=user, data={"old": old, "new": user.email})
    return user


def do_request_email_change(user: User, new_email: str, *, acting_user: User) -> None:
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise AccountError("This is your address already.", field="email")
    if User.objects.filter(email=new_email).exists():
        raise AccountError("Another account uses this address.", field="email")
    with transaction.atomic():
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        record_event(Tag.EMAIL_CHANGE_REQUESTED, actor=acting_user, target=user, data={"new": new_email})
        do_send_verification(user, acting_user=acting_user)


def do_update_preferences(user: User, *, name: str, notify_optional: bool, acting_user: User) -> None:
    with transaction.atomic():
        changes: dict[str, dict[str, object]] = {}
        if name.strip() != user.name:
            changes["name"] = {"old": user.name, "new": name.strip()}
        if notify_optional != user.notify_optional:
            changes["notify_optional"] = {"old": user.notify_optional, "new": notify_optional}
        if not changes:
            return
        user.name, user.notify_optional = name.strip(), notify_optional
        user.save(update_fields=["name", "notify_optional"])
        record_event(Tag.ACCOUNT_UPDATED, actor=acting_user, target=user, data=changes)


def do_set_password_by_link(user: User, password: str) -> None:
    """A password chosen through a reset link sent to the address: that proves the address too."""
    with transaction.atomic():
        user.set_password(password)
        fields = ["password"]
        if user.email_verified_at is None:
            user.email_verified_at = clock.now()
            fields.append("email_verified_at")
        user.save(update_fields=fields)
        record_event(Tag.PASSWORD_RESET, actor=user, target=user)


def do_set_openpgp_key(user: User, armored: str, *, acting_user: User) -> openpgp.KeyInfo:
    """The person gives their OpenPGP public key: GnuPG reads it and checks that it can take encryption now;
    from then on their notifications carry the content, encrypted to it. It replaces a key given earlier.
    Only the person themselves may set it (the pages and the API pass their own account)."""
    if acting_user.pk != user.pk:
        raise ActionError("No such account.", code="not_found", status=404)
    try:
        info = openpgp.inspect_public_key(armored, now=clock.now(), purpose="encrypt")
    except openpgp.KeyRefused as refusal:
        raise AccountError(f"This key cannot be used: {refusal.reason}.", field="public_key") from None
    with transaction.atomic():
        old = user.openpgp_fingerprint
        user.openpgp_key = armored.strip() + "\n"
        user.openpgp_fingerprint = info.fingerprint
        user.openpgp_expires_at = info.expires_at
        user.save(update_fields=["openpgp_key", "openpgp_fingerprint", "openpgp_expires_at"])
        record_event(
            Tag.OPENPGP_KEY_SET, actor=acting_user, target=user,
            data={"fingerprint": info.fingerprint, "old": old or None,
                  "expires_at": info.expires_at.isoformat() if info.expires_at else None},
        )  # fmt: skip
    return info


def do_remove_openpgp_key(user: User, *, acting_user: User) -> None:
    """The person takes their key away: their notifications are content-free notices again."""
    if acting_user.pk != user.pk:
        raise ActionError("No such account.", code="not_found", status=404)
    if not user.openpgp_key:
        return
    with transaction.atomic():
        old = user.openpgp_fingerprint
        user.openpgp_key, user.openpgp_fingerprint, user.openpgp_expires_at = "", "", None
        user.save(update_fields=["openpgp_key", "openpgp_fingerprint", "openpgp_expires_at"])
        record_event(Tag.OPENPGP_KEY_REMOVED, actor=acting_user, target=user, data={"fingerprint": old})
