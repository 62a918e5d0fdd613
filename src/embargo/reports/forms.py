"""The web forms of reports. Their rules are the API's (`schemas.ReportIn`), checked through it, so a
rule lives in one place."""

from __future__ import annotations

from typing import Any

import pydantic
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from embargo.reports.schemas import MessageIn, ReportIn


def _apply(form: forms.Form, model: type[pydantic.BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump()
    except pydantic.ValidationError as e:
        for error in e.errors():
            field = str(error["loc"][0]) if error["loc"] else None
            message = (
                gettext("This field is required.")
                if error["type"] == "missing"
                else str(error["msg"]).removeprefix("Value error, ")
            )
            form.add_error(field if field in form.fields else None, message)
        return {}


class ReportForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        help_text=_("We send you a private link to follow your report; no account is needed."),
    )
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("One line that names the problem."))
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("What is wrong and how you found it. Markdown works. Write in your own language if you prefer."),
    )
    affected_versions = forms.CharField(
        label=_("Affected versions"), required=False, max_length=10_000,
        help_text=_("Which versions you tried, e.g. “2.31.0 and main at 1a2b3c”."),
    )  # fmt: skip
    reproduction = forms.CharField(
        label=_("Reproduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        help_text=_(
            "The shortest code that shows the problem, and the code you used to find it. Shown as code, never run."
        ),
    )
    impact = forms.CharField(
        label=_("Impact"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What an attacker gains, and under which conditions."),
    )  # fmt: skip
    severity_proposed = forms.CharField(
        label=_("Your severity estimate"), required=False, max_length=200,
        help_text=_("Optional: low, moderate, high or critical, or a CVSS v3.1 / v4.0 vector."),
    )  # fmt: skip
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("The language you write in and want answers in. Embargo recognises it if you leave this."),
    )
    credit_name = forms.CharField(
        label=_("Credit me as"), required=False, max_length=200,
        help_text=_("The name or alias the advisory should credit."),
    )  # fmt: skip
    reporter_deadline = forms.DateField(
        label=_("Your disclosure date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional: the date you intend to disclose on, if you have one. The team sees it."),
    )
    credit_consent = forms.BooleanField(
        label=_("You may name me in public when the advisory is published"),
        required=False,
        help_text=_("Without this, you are credited only privately. You can change it until publication."),
    )

    def __init__(self, *args: Any, anonymous: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from embargo.languages import names

        self.fields["language"].choices = [("", _("Recognise it for me")), *names.choices()]  # type: ignore[attr-defined]
        self.anonymous = anonymous
        if anonymous:
            self.fields["email"].required = True
        else:
            del self.fields["email"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        fields = {k: v for k, v in data.items() if k != "email"}
        checked = _apply(self, ReportIn, fields)
        return {**checked, "email": data.get("email", "")} if checked else data


class MessageForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}), max_length=100_000)
    internal = forms.BooleanField(label="Internal note (team only)", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            _apply(self, MessageIn, {"body": data.get("body", ""), "internal": bool(data.get("internal"))})
        return data
