from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.db import transaction

from embargo.accounts.actions import do_set_password_by_link
from embargo.accounts.models import User
from embargo.accounts.verification import password_reset_link
from embargo.notifications.outbox import queue_email


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True}))


class SignUpForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    name = forms.CharField(
        label="Name or alias",
        max_length=200,
        required=False,
        help_text="How the team and, with your consent, the advisory name you.",
    )
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput,
        strip=False,
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_again = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        elif password:
            try:
                password_validation.validate_password(
                    password, User(email=data.get("email", ""), name=data.get("name", ""))
                )
            except forms.ValidationError as e:
                self.add_error("password", e)
        return data


class ResetForm(PasswordResetForm):
    """Django's reset form, delivering through the outbox. Accounts without a password are included:
    following the link is how a reporter who wrote without signing up takes their account over."""

    def get_users(self, email: str) -> Iterator[Any]:
        return iter(User.objects.filter(email__iexact=email, is_active=True))

    def save(self, *args: Any, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        with transaction.atomic():
            for user in self.get_users(email):
                queue_email("password_reset", to=user.email, context={"link": password_reset_link(user)})


class ChoosePasswordForm(SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        do_set_password_by_link(self.user, self.cleaned_data["new_password1"])
        return self.user


class PreferencesForm(forms.Form):
    name = forms.CharField(label="Name or alias", max_length=200, required=False)
    notify_optional = forms.BooleanField(
        label="E-mail me about reports I follow (new messages, state changes, assignments)",
        required=False,
        help_text="Questions to you as a reporter, invitations and account mail are always sent.",
    )


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        help_text="We send a link to the new address; it replaces the old one once you follow it.",
    )
