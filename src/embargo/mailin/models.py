from __future__ import annotations

from django.db import models

from embargo.ids import new_public_id
from embargo.vault.sealing import SealedRecord


class Outcome(models.TextChoices):
    REPORT = "report"  # became a new report (perhaps with the raw mail attached, when it could not all be read)
    MESSAGE = "message"  # became a message in a report's thread
    IGNORED = "ignored"  # an auto-reply or a loop: kept, no report, no answer


class Signature(models.TextChoices):
    NOT_SIGNED = "not_signed"
    # A valid OpenPGP signature by `signer_fingerprint`, a key on file (the sender's, or the project's own).
    VERIFIED = "verified"
    # A valid signature, but only by a key the mail itself carried: anyone can attach their own key, so it says the
    # mail was not changed since it was signed, not who signed it.
    SIGNED_BY_ENCLOSED_KEY = "enclosed_key"
    UNVERIFIED = "unverified"  # signed, but by a key we do not have (or the signature is bad)


class InboundMail(SealedRecord):
    """One message `embargo mail-in` accepted for one of its addresses. The raw message is kept sealed (as the
    attachments are) in the file storage, whatever became of it, so that nothing sent to a project is lost."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    received_at = models.DateTimeField()
    # The envelope sender (MAIL FROM; empty for bounces) and the address it was delivered to.
    envelope_from = models.CharField(max_length=254, blank=True)
    recipient = models.CharField(max_length=254)
    from_address = models.CharField(max_length=254, blank=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, null=True, related_name="+")
    report = models.ForeignKey("reports.Report", on_delete=models.CASCADE, null=True, related_name="inbound_mail")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # What happened, for the team and the operator (never text of the mail), e.g. "auto-reply (Auto-Submitted)".
    note = models.CharField(max_length=500, blank=True)
    encrypted = models.BooleanField(default=False)
    signature = models.CharField(max_length=12, choices=Signature.choices, default=Signature.NOT_SIGNED)
    signer_fingerprint = models.CharField(max_length=64, blank=True)
    # The public key behind a verified signature, carried by the mail itself, when the sender had no key on file:
    # offered to the reporter on the report's page (their private link proves the address), never set from the
    # mail alone, since a From address proves nothing (docs/mail-in.md).
    proposed_key = models.TextField(blank=True)
    proposed_fingerprint = models.CharField(max_length=40, blank=True)
    # SHA-256 of the session key of the OpenPGP message the mail carried (PGP/MIME or inline), whatever its armour:
    # the same ciphertext sent again by someone else is refused (mailin/actions.py `read`), else they would read it.
    session_key_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "-received_at"], name="inbound_mail_of_project"),
            # A message the sending server delivers again (it did not hear our answer) is recognised by this.
            models.Index(fields=["recipient", "sha256"], name="inbound_mail_seen"),
        ]

    def __str__(self) -> str:
        return f"mail {self.public_id} to {self.recipient} ({self.outcome})"
