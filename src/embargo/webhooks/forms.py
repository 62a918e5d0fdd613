from __future__ import annotations

from django import forms

from embargo.webhooks import events
from embargo.webhooks.addresses import MAX_LENGTH
from embargo.webhooks.models import Format


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=MAX_LENGTH,
        help_text="https://… of your chat room's incoming webhook or your own receiver. Embargo POSTs to it.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )  # fmt: skip
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="For you, e.g. “#security on Mattermost”."
    )
    events = forms.MultipleChoiceField(
        label="Events", choices=[(name, f"{name}: {text}") for name, text in events.EVENTS.items()],
        widget=forms.CheckboxSelectMultiple, help_text="What to deliver.",
    )  # fmt: skip
    format = forms.ChoiceField(label="Format", choices=Format.choices, initial=Format.JSON)
    include_content = forms.BooleanField(
        label="Include report titles and message bodies", required=False,
        help_text="Off: deliveries say what happened and link to the report, nothing of its text. On: the receiver "
        "(and, for a chat room, everyone in it) reads the titles and messages of embargoed reports.",
    )  # fmt: skip
    active = forms.BooleanField(label="Active", required=False, initial=True, help_text="Off: nothing is delivered.")
