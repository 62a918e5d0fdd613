"""The person's OpenPGP public key: with one on file, their notifications carry the content, encrypted to it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.accounts.access import signed_in_user
from embargo.accounts.actions import do_remove_openpgp_key, do_set_openpgp_key
from embargo.accounts.models import User
from embargo.errors import ActionError
from embargo.vault import openpgp


class KeyForm(forms.Form):
    public_key = forms.CharField(
        label="Your OpenPGP public key",
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        max_length=openpgp.MAX_KEY_CHARS,
        help_text="ASCII-armoured, as `gpg --armor --export you@example.org` prints it: "
        "-----BEGIN PGP PUBLIC KEY BLOCK----- …",
    )


SAVED = "Your key is saved: your notifications now carry the content, encrypted to it."
REMOVED = "Your key is removed: your notifications no longer carry the content."


def save_key(user: User, form: KeyForm) -> bool:
    """Sets the key a posted form carries as `user`'s, the person acting for themselves (their session, or a
    report's private link, which proves the address). False, with the reason on the form, if it is refused.
    Shared by the account page and the report page's "Encrypted e-mail" section."""
    if not form.is_valid():
        return False
    try:
        do_set_openpgp_key(user, form.cleaned_data["public_key"], acting_user=user)
    except ActionError as e:
        form.add_error("public_key", e.message)
        return False
    return True


def key_facts(user: User) -> dict[str, Any]:
    """What the pages show of the key on file: its fingerprint in groups, its expiry, whether it expired."""
    return {
        "fingerprint": openpgp.fingerprint_display(user.openpgp_fingerprint) if user.openpgp_fingerprint else "",
        "expires_at": user.openpgp_expires_at,
        "expired": user.openpgp_expires_at is not None and user.openpgp_expires_at <= clock.now(),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def key_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = KeyForm(request.POST if request.POST.get("action") == "set" else None)
    if request.method == "POST" and request.POST.get("action") == "remove":
        do_remove_openpgp_key(user, acting_user=user)
        messages.success(request, REMOVED)
        return redirect("account-key")
    if request.method == "POST" and form.is_bound and save_key(user, form):
        messages.success(request, SAVED)
        return redirect("account-key")
    return render(request, "accounts/key.html", {"form": form, **key_facts(user)})


urlpatterns = [path("key/", key_page, name="account-key")]
