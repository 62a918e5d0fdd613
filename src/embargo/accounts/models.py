from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils.crypto import salted_hmac

from embargo.ids import new_public_id


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None makes an unusable password
        user.save()
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: reporter, team member, collaborator or packager contact. Signs in by e-mail."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    # Invitations and collaborator grants take effect only once the address is verified.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # A new address waits here until its owner follows the verification link.
    pending_email = models.EmailField(blank=True)
    # Non-essential notifications (see notifications/emails.py); essential ones cannot be turned off.
    notify_optional = models.BooleanField(default=True)
    # Reports of this account that a team marked as spam; at EMBARGO_SPAM_LIMIT it may send no more.
    spam_reports = models.PositiveIntegerField(default=0)
    # Part of every session's authentication hash: bumping it signs the person out everywhere.
    session_version = models.PositiveIntegerField(default=1)
    # Set when the person deleted their account: what identified them is gone, their reports stay.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The person's OpenPGP public key (checked with GnuPG on entry, accounts.actions.do_set_openpgp_key): when it
    # is present and has not expired, their notifications carry the content, encrypted to it (DESIGN.md).
    openpgp_key = models.TextField(blank=True)
    openpgp_fingerprint = models.CharField(max_length=64, blank=True)
    openpgp_expires_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.display_name

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django checks this on every request of a session: it changes with the password and with
        `session_version`, so either ends every session of the person."""
        return salted_hmac(
            "embargo.accounts.User.session",
            f"{self.password}|{self.session_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]


class ApiToken(models.Model):
    """A bearer token for the HTTP API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the token may do (domain/tokens.py): "read" (GET only), "write" (all but publishing), "publish".
    scope = models.CharField(max_length=10, default="publish")
    # The projects it reaches (as their team, or as a reporter to them); none listed: every project.
    projects = models.ManyToManyField("projects.Project", blank=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
