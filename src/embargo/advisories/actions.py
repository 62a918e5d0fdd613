"""Every write to advisories: the draft, its readable ID, and its CVE identifier."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from embargo import clock
from embargo.accounts.access import Permission, ReportAccess
from embargo.accounts.models import User
from embargo.advisories import cve_services, index
from embargo.advisories.models import Advisory, AdvisorySequence, AdvisoryState, CnaAccount
from embargo.audit.actions import fingerprint, record_event
from embargo.audit.tags import Audience, Tag
from embargo.domain import cve
from embargo.domain.workflow import State
from embargo.errors import ActionError
from embargo.notifications.outbox import queue_email
from embargo.projects.models import Project


class AdvisoryError(ActionError):
    pass


def next_readable_id(prefix: str, year: int) -> str:
    """PREFIX-YEAR-NNNN, numbered per instance; called inside the saving transaction."""
    sequence, _ = AdvisorySequence.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}-{year}-{sequence.last:04d}"


def draft_of(advisory: Advisory | None) -> dict[str, Any]:
    return json.loads(advisory.draft) if advisory is not None and advisory.draft else {}


def do_save_advisory(access: ReportAccess, data: dict[str, Any], *, acting_user: User) -> Advisory:
    """Saves the draft (the API checked its shape; the domain checks versions, vectors and CWEs)."""
    from embargo.advisories import records

    access.require(Permission.MANAGE_FIXES, "Only the project's team edits the advisory.")
    report = access.report
    records.validate(data)
    text = json.dumps(data, sort_keys=True)
    moment = clock.now()
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().filter(report=report).first()
        if advisory is not None and advisory.state == AdvisoryState.PUBLISHED:
            return _amend_published(advisory, text, moment, acting_user=acting_user)
        if State(report.state) is State.PUBLISHED:
            raise AdvisoryError("The advisory is published.", code="already_published", status=409)
        created = advisory is None
        if advisory is None:
            advisory = Advisory(
                report=report,
                project=report.project,
                readable_id=next_readable_id(settings.EMBARGO_ADVISORY_PREFIX, moment.year),
                created_at=moment,
            )
        old = advisory.draft if not created else ""
        advisory.draft = text
        advisory.updated_at = moment
        advisory.save()
        if created or old != text:
            record_event(
                Tag.ADVISORY_SAVED, actor=acting_user, target=advisory, project=report.project, report=report,
                audience=Audience.PARTICIPANTS,
                data={"id": advisory.readable_id, "created": created, "draft": "changed " + fingerprint(text)},
            )  # fmt: skip
    return advisory


def _amend_published(advisory: Advisory, text: str, moment: dt.datetime, *, acting_user: User) -> Advisory:
    """A change to a published advisory is a new revision: `modified` moves in every record (OSV, CVE, CSAF and
    the feed read `updated_at`) and CSAF lists the revision. A withdrawn advisory stays as it was withdrawn."""
    if advisory.withdrawn_at is not None:
        raise AdvisoryError("The advisory was withdrawn.", code="advisory_withdrawn", status=409)
    if advisory.draft == text:
        return advisory
    if not advisory.revisions and advisory.published_at is not None:
        advisory.revisions = [[advisory.published_at.isoformat(), "Initial release"]]
    advisory.revision += 1
    advisory.revisions = [*advisory.revisions, [moment.isoformat(), f"Revision {advisory.revision}: amended"]]
    advisory.draft = text
    advisory.updated_at = moment
    advisory.save(update_fields=["draft", "updated_at", "revision", "revisions"])
    index.refresh(advisory)
    record_event(
        Tag.ADVISORY_AMENDED, actor=acting_user, target=advisory, project=advisory.project, report=advisory.report,
        audience=Audience.PARTICIPANTS,
        data={"id": advisory.readable_id, "revision": advisory.revision, "draft": "changed " + fingerprint(text)},
    )  # fmt: skip
    return advisory


def do_withdraw_advisory(access: ReportAccess, reason: str, *, acting_user: User) -> Advisory:
    """Withdraws a published advisory with a reason shown in public; it is never deleted. OSV marks it
    `withdrawn`, CSAF notes it, and the public page says why.

    In `cve_services` mode the CVE record is rejected as well: the request is written to the outbox with the
    withdrawal, and the worker sends it (retrying while CVE Services is down)."""
    access.require(Permission.MANAGE_FIXES, "Only the project's team withdraws the advisory.")
    reason = reason.strip()
    if not reason:
        raise AdvisoryError("Say why the advisory is withdrawn: the reason is public.", field="reason")
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().filter(report=access.report).first()
        if advisory is None or advisory.state != AdvisoryState.PUBLISHED:
            raise AdvisoryError("Only a published advisory can be withdrawn.", code="not_published", status=409)
        if advisory.withdrawn_at is not None:
            raise AdvisoryError("The advisory is withdrawn already.", code="advisory_withdrawn", status=409)
        moment = clock.now()
        advisory.withdrawn_at = moment
        advisory.withdrawn_reason = reason
        advisory.updated_at = moment
        advisory.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
        index.refresh(advisory)  # still served by ID, matched by no query
        reject = advisory.project.cve_mode == "cve_services" and bool(advisory.cve_id) and not advisory.imported
        if reject:
            queue_email(cve_services.REJECTION, to="", context={"advisory": advisory.readable_id, "reason": reason})
        record_event(
            Tag.ADVISORY_WITHDRAWN, actor=acting_user, target=advisory, project=advisory.project,
            report=advisory.report, audience=Audience.PARTICIPANTS,
            data={
                "id": advisory.readable_id, "reason": reason,
                "cve_rejection": "queued" if reject else None,
            },
        )  # fmt: skip
    return advisory


def credentials_of(project: Project) -> cve_services.CnaCredentials | None:
    account = CnaAccount.objects.filter(project=project).first()
    if account is None or not settings.EMBARGO_CVE_SERVICES_URL:
        return None
    return cve_services.CnaCredentials(
        org=account.short_name, user=account.user, api_key=account.api_key, url=settings.EMBARGO_CVE_SERVICES_URL
    )


def do_assign_cve(access: ReportAccess, cve_id: str | None, *, acting_user: User) -> Advisory:
    """Gives the report's advisory its CVE ID: entered by hand from a CNA (`manual`), or reserved through
    CVE Services (`cve_services`) — only when the policy allows it (by default, once a fix exists)."""
    access.require(Permission.MANAGE_FIXES, "Only the project's team requests CVE identifiers.")
    report = access.report
    project = report.project
    refusal = cve.request_refusal(State(report.state), project.policy.as_domain())
    if refusal:
        raise AdvisoryError(refusal, code="cve_too_early", status=409)
    existing = Advisory.objects.filter(report=report).first()
    if existing is not None and existing.cve_id:
        raise AdvisoryError(f"The advisory has its CVE ID already: {existing.cve_id}.", code="cve_assigned", status=409)
    if project.cve_mode == "cve_services":
        if cve_id:
            raise AdvisoryError("This project reserves its IDs through CVE Services: send `{}`.", field="cve_id")
        try:
            cve_id = cve_services.client_for(credentials_of(project)).reserve()
        except cve_services.CveServicesError as e:
            status = 429 if e.code == "rate_limited" else 502
            raise AdvisoryError(e.message, code=f"cve_services_{e.code}", status=status) from None
    else:
        if not cve_id:
            raise AdvisoryError("Give the ID your CNA assigned, e.g. CVE-2026-12345.", field="cve_id")
        cve_id = cve_id.strip().upper()
        if not cve.is_cve_id(cve_id):
            raise AdvisoryError(f"{cve_id!r} is not a CVE ID (CVE-YYYY-NNNN…).", field="cve_id")
    try:
        with transaction.atomic():
            advisory = existing or Advisory.objects.select_for_update().filter(report=report).first()
            if advisory is None:
                moment = clock.now()
                advisory = Advisory(
                    report=report, project=project, created_at=moment, updated_at=moment, draft="{}",
                    readable_id=next_readable_id(settings.EMBARGO_ADVISORY_PREFIX, moment.year),
                )  # fmt: skip
            advisory.cve_id = cve_id
            advisory.aliases = [cve_id, *[a for a in advisory.aliases if a != cve_id]]
            advisory.updated_at = clock.now()
            advisory.save()
            if advisory.state == AdvisoryState.PUBLISHED:
                index.refresh(advisory)  # the CVE ID is in the public record's aliases
            record_event(
                Tag.CVE_ASSIGNED, actor=acting_user, target=advisory, project=project, report=report,
                audience=Audience.PARTICIPANTS, data={"cve_id": cve_id, "mode": project.cve_mode},
            )  # fmt: skip
    except IntegrityError:
        raise AdvisoryError(
            f"{cve_id} is the ID of another advisory.", field="cve_id", code="cve_taken", status=409
        ) from None
    return advisory


def do_set_cna_account(project: Project, changes: dict[str, str], *, acting_user: User | None) -> CnaAccount:
    """The project's CVE Services credentials; the API key is stored sealed and the audit log keeps only a hash."""
    with transaction.atomic():
        account = CnaAccount.objects.select_for_update().filter(project=project).first()
        if account is None:
            missing = [k for k in ("cna_short_name", "cna_user", "cna_api_key") if not changes.get(k)]
            if missing:
                raise AdvisoryError(f"Give {', '.join(missing)} together the first time.", field=missing[0])
            account = CnaAccount(project=project)
        data: dict[str, Any] = {}
        if "cna_short_name" in changes:
            account.short_name = changes["cna_short_name"]
            data["short_name"] = account.short_name
        if "cna_user" in changes:
            account.user = changes["cna_user"]
            data["user"] = account.user
        if "cna_api_key" in changes:
            account.api_key = changes["cna_api_key"]
            data["api_key"] = "changed " + fingerprint(changes["cna_api_key"])
        account.save()
        record_event(
            Tag.PROJECT_SETTINGS_CHANGED, actor=acting_user, target=project, project=project, data={"cna": data}
        )
    return account
