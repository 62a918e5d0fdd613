"""Every write to accounts. The acting user is None when an operator acts from the command line."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from embargo import clock
from embargo.accounts.models import ApiToken, User
from embargo.accounts.tokens import hash_token, new_token
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.errors import ActionError


class AccountError(ActionError):
    pass


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(f"{email!r} is not an e-mail address") from None
    return email


def do_create_user(
    email: str, *, name: str = "", password: str | None = None, acting_user: User | None
) -> User:
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise AccountError(f"a user with the e-mail {email} exists already")
    if password is not None:
        try:
            validate_password(password, User(email=email, name=name))
        except ValidationError as e:
            raise AccountError(" ".join(e.messages)) from None
    with transaction.atomic():
        user = User.objects.create_user(email, password, name=name.strip())
        record_event(Tag.USER_CREATED, actor=acting_user, target=user, data={"email": email})
    return user


def do_create_token(user: User, *, name: str = "", acting_user: User | None) -> str:
    """Creates an API token for `user` and returns it; only its hash is kept."""
    token = new_token()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user, name=name, token_hash=hash_token(token), prefix=token[:10], created_at=clock.now()
        )
        record_event(Tag.TOKEN_CREATED, actor=acting_user, target=row, data={"user": user.public_id})
    return token
