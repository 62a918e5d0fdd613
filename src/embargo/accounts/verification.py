"""E-mail verification links, in the manner of Django's password-reset tokens: an HMAC over the user's
state (address, pending address, verification time), so a link dies once used or once the address changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class EmailVerificationTokens(PasswordResetTokenGenerator):
    key_salt = "embargo.accounts.verification.EmailVerificationTokens"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.pending_email}{user.email_verified_at}{timestamp}"


verification_tokens = EmailVerificationTokens()


def verification_link(user: Any) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.EMBARGO_BASE_URL}/account/verify/{uid}/{verification_tokens.make_token(user)}/"


def password_reset_link(user: Any) -> str:
    from django.contrib.auth.tokens import default_token_generator

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{settings.EMBARGO_BASE_URL}/account/reset/{uid}/{default_token_generator.make_token(user)}/"
