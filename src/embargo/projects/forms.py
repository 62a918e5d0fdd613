from __future__ import annotations

from django import forms

from embargo.domain.policy import WEEKDAY_NAMES

DAYS = [(str(i), name.capitalize()) for i, name in enumerate(WEEKDAY_NAMES)]


class PolicyForm(forms.Form):
    response_target_hours = forms.IntegerField(label="Usual answer within (hours)", min_value=1)
    response_limit_hours = forms.IntegerField(label="Answer at the outside within (hours)", min_value=1)
    fix_target_days = forms.IntegerField(label="Fix released within (days after the report)", min_value=1)
    packager_lead_days = forms.IntegerField(label="Tell packagers at least (days before the release)", min_value=1)
    release_weekdays = forms.MultipleChoiceField(
        label="Releases fall on", choices=DAYS, widget=forms.CheckboxSelectMultiple
    )
    holiday_calendar = forms.CharField(
        label="Holiday calendar", required=False, max_length=10,
        help_text="A country code (e.g. US, DE) whose public holidays never carry a release; empty for none.",
    )  # fmt: skip
    timezone = forms.CharField(label="Time zone of release dates", max_length=64, help_text="e.g. Europe/Paris")
    reporter_confirmation_days = forms.IntegerField(label="Reporter confirms the fix within (days)", min_value=1)
    cve_required = forms.BooleanField(label="A CVE identifier is required for each advisory", required=False)
    cve_after_fix = forms.BooleanField(label="Request the CVE identifier only once a fix exists", required=False)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class AddressLinesField(forms.CharField):
    """E-mail addresses, one a line; the action checks each."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"})

    def to_python(self, value: str | None) -> list[str]:  # type: ignore[override]
        return _lines(super().to_python(value) or "")

    def prepare_value(self, value: object) -> object:
        return "\n".join(value) if isinstance(value, list | tuple) else value


class KeyField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off", "class": "code"})


class ListsForm(forms.Form):
    preannounce_lists = AddressLinesField(
        label="Pre-announcement lists", required=False,
        help_text="One address a line (at most 20): the versions and the date of a release, no details.",
    )  # fmt: skip
    announce_lists = AddressLinesField(
        label="Announcement lists", required=False,
        help_text="One address a line (at most 20): the advisories, once published.",
    )  # fmt: skip


class IntakeForm(forms.Form):
    public_issues_url = forms.CharField(
        label="Public issue tracker", max_length=500, required=False,
        help_text="e.g. https://github.com/psf/requests/issues — where “not a vulnerability” sends reporters.",
    )  # fmt: skip
    intake_address = forms.CharField(
        label="Intake e-mail address", max_length=254, required=False,
        help_text="e.g. security@example.org, forwarded by your mail server to `embargo mail-in`: mail to it becomes "
        "a report. Empty: no reports by e-mail.",
    )  # fmt: skip
    require_poc = forms.BooleanField(label="Every report must carry a proof of concept", required=False)
    hold_new_accounts = forms.BooleanField(
        label="Reports from new accounts wait for an owner's review before they reach the inbox", required=False
    )
    require_2fa_collaborators = forms.BooleanField(
        label="Collaborators too must use a second factor (team members always must)", required=False
    )


class RetentionForm(forms.Form):
    purge_spam_after_days = forms.IntegerField(
        label="Purge spam after (days)", min_value=1, max_value=3650, required=False,
        help_text="Its text, messages and files are deleted; a stub and the audit trail stay. Empty keeps them.",
    )  # fmt: skip
    purge_rejected_after_days = forms.IntegerField(
        label="Purge rejected reports after (days)", min_value=1, max_value=3650, required=False,
        help_text="Counted from the rejection. Empty keeps them.",
    )  # fmt: skip


class LanguagesForm(forms.Form):
    team_languages = forms.CharField(
        label="Languages the team reads", max_length=100,
        help_text="ISO 639-1 codes, comma-separated, the one the team writes in first (e.g. “en, de”).",
    )  # fmt: skip
    translation_enabled = forms.BooleanField(
        label="Translate reports in other languages with the instance's translation service",
        required=False,
    )

    def clean_team_languages(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["team_languages"].split(",") if c.strip()]


class MastodonForm(forms.Form):
    mastodon_instance_url = forms.CharField(
        label="Mastodon instance", max_length=500, required=False,
        help_text="e.g. https://mastodon.example — empty removes the account; advisories are announced there.",
    )  # fmt: skip
    mastodon_access_token = forms.CharField(
        label="Access token",
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Of the project's account, with the write:statuses scope; stored sealed, never shown. "
        "Leave empty to keep the current one.",
    )


class ProjectKeyUploadForm(forms.Form):
    secret_key = KeyField(
        label="Your own secret key", max_length=200_000,
        help_text="ASCII-armoured (-----BEGIN PGP PRIVATE KEY BLOCK-----), without a passphrase; stored sealed.",
    )  # fmt: skip


class PackagerForm(forms.Form):
    organisation = forms.CharField(label="Organisation", max_length=200, help_text="e.g. Debian Security Team")
    contact_name = forms.CharField(label="Contact name", max_length=200, required=False)
    emails = AddressLinesField(label="E-mail addresses", help_text="One a line, at most 10: they get the notices.")
    public_key = KeyField(
        label="OpenPGP public key", required=False, max_length=200_000,
        help_text="Optional, ASCII-armoured: the notices are then encrypted to it, otherwise signed and sent in clear.",
    )  # fmt: skip


class JoinForm(PackagerForm):
    reason = forms.CharField(
        label="Who you are and what you package", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For the project's owners, who check it through a channel they trust. At most 2,000 characters.",
    )  # fmt: skip


class DecisionForm(forms.Form):
    request_id = forms.CharField(max_length=32, widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(choices=[("yes", "Approve"), ("no", "Decline")], coerce=lambda v: v == "yes")
    note = forms.CharField(label="Note to them", max_length=2000, required=False)
