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
