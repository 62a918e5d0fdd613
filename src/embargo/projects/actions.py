"""Every write to projects, their policies and their teams."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from embargo import clock
from embargo.accounts.access import GRANTS, NotFound, Permission, team_role
from embargo.accounts.models import User
from embargo.audit.actions import record_event
from embargo.audit.tags import Tag
from embargo.domain import policy as domain_policy
from embargo.domain import retention
from embargo.errors import ActionError
from embargo.notifications.outbox import queue_email
from embargo.projects.models import (
    Membership,
    Packager,
    PackagerRequest,
    PackagerRequestStatus,
    Policy,
    Project,
    Role,
)
from embargo.vault import openpgp

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")
# OSV's ecosystem names for the package ecosystems Embargo knows.
KNOWN_ECOSYSTEMS = {"PyPI", "npm", "crates.io", "Go", "Maven", "NuGet", "RubyGems", "Packagist", "Hex", "Pub"}


class ProjectError(ActionError):
    pass


def require_permission(project: Project, user: User | None, permission: Permission) -> None:
    """The action checks again what its page or API handler checked. No user: the operator (CLI, demo)."""
    if user is None:
        return
    role = team_role(user, project)
    if role is None or permission not in GRANTS[role]:
        raise NotFound


def parse_package(spec: str) -> tuple[str, str]:
    """`ECOSYSTEM:NAME` (e.g. `PyPI:requests`) into its two parts."""
    ecosystem, sep, name = spec.partition(":")
    if not sep or not ecosystem or not name:
        raise ProjectError(f"package {spec!r} is not ECOSYSTEM:NAME (e.g. PyPI:requests)")
    matches = [e for e in KNOWN_ECOSYSTEMS if e.lower() == ecosystem.lower()]
    if not matches:
        raise ProjectError(f"unknown ecosystem {ecosystem!r}; known: {', '.join(sorted(KNOWN_ECOSYSTEMS))}")
    return matches[0], name


def do_create_project(
    slug: str,
    *,
    name: str,
    repository_url: str = "",
    package: str = "",
    acting_user: User | None,
) -> Project:
    if not SLUG.match(slug):
        raise ProjectError(f"slug {slug!r}: use lower-case letters, digits and hyphens (at most 64)")
    if not name.strip():
        raise ProjectError("a project needs a name")
    if repository_url and not repository_url.startswith(("https://", "http://")):
        raise ProjectError(f"repository {repository_url!r} is not an http(s) URL")
    ecosystem, package_name = parse_package(package) if package else ("", "")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise ProjectError(f"a project {slug!r} exists already")
        project = Project.objects.create(
            slug=slug,
            name=name.strip(),
            repository_url=repository_url,
            package_ecosystem=ecosystem,
            package_name=package_name,
            created_at=clock.now(),
        )
        Policy.objects.create(project=project, release_weekdays=[0, 1, 2, 3, 4])
        record_event(
            Tag.PROJECT_CREATED,
            actor=acting_user,
            target=project,
            project=project,
            data={"slug": slug, "name": project.name, "package": package},
        )
    return project


def do_add_member(project: Project, user: User, role: str, *, acting_user: User | None) -> Membership:
    """Adds `user` to the team, or changes their role if they are already in it."""
    if role not in Role.values:
        raise ProjectError(f"role {role!r}: choose one of {', '.join(Role.values)}")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if membership is None:
            membership = Membership.objects.create(project=project, user=user, role=role, created_at=clock.now())
            record_event(
                Tag.MEMBER_ADDED, actor=acting_user, target=project, project=project,
                data={"user": user.public_id, "role": role},
            )  # fmt: skip
        elif membership.role != role:
            old = membership.role
            membership.role = role
            membership.save(update_fields=["role"])
            record_event(
                Tag.MEMBER_ROLE_CHANGED, actor=acting_user, target=project, project=project,
                data={"user": user.public_id, "old": old, "new": role},
            )  # fmt: skip
    return membership


def do_remove_member(project: Project, user: User, *, reassign_to: User | None = None, acting_user: User | None) -> int:
    """Takes `user` off the team. What they could do with it ends at once: their API tokens are revoked and
    every session of theirs ends (tokens and sessions are per person, so this reaches their other projects
    too: they sign in again there), and the project's reports assigned to them go to `reassign_to` (a member)
    or to nobody. The last owner cannot be removed. Returns the number of reports reassigned."""
    from embargo.accounts.models import ApiToken
    from embargo.reports.models import Report

    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if membership is None:
            raise ProjectError(f"{user.email} is not on the team of {project.slug}.", code="not_found", status=404)
        if (
            membership.role == Role.OWNER
            and not Membership.objects.filter(project=project, role=Role.OWNER).exclude(pk=membership.pk).exists()
        ):
            raise ProjectError("The last owner cannot leave the team: make someone else an owner first.", status=409)
        if reassign_to is not None and (
            reassign_to.pk == user.pk or not Membership.objects.filter(project=project, user=reassign_to).exists()
        ):
            raise ProjectError("Reports can only be reassigned to another member of the team.", field="reassign_to")
        membership.delete()
        moved = Report.objects.filter(project=project, assignee=user).update(assignee=reassign_to)
        moment = clock.now()
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=moment)
        type(user).objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
        record_event(
            Tag.MEMBER_REMOVED, actor=acting_user, target=project, project=project,
            data={
                "user": user.public_id, "role": membership.role, "reassigned": moved,
                "reassigned_to": reassign_to.public_id if reassign_to else None, "tokens_revoked": revoked,
            },
        )  # fmt: skip
    return moved


def known_timezones() -> set[str]:
    import zoneinfo

    return set(zoneinfo.available_timezones())


def known_calendars() -> set[str]:
    import holidays

    return set(holidays.list_supported_countries())


def do_change_policy(
    project: Project, policy: domain_policy.Policy, *, acting_user: User | None
) -> domain_policy.Policy:
    """Keeps the project's new promises and recomputes the due times of its open reports."""
    from embargo.reports import timing
    from embargo.reports.models import Report

    found = domain_policy.problems(policy, known_timezones=known_timezones(), known_calendars=known_calendars())
    if found:
        field, message = found[0]
        raise ProjectError(f"`{field}`: {message}.", field=field)
    with transaction.atomic():
        row = Policy.objects.select_for_update().get(project=project)
        old = row.as_domain()
        changes = {
            name: {"old": getattr(old, name), "new": getattr(policy, name)}
            for name in policy.__dataclass_fields__
            if getattr(old, name) != getattr(policy, name)
        }
        if not changes:
            return old
        for name in policy.__dataclass_fields__:
            setattr(row, name, list(policy.release_weekdays) if name == "release_weekdays" else getattr(policy, name))
        row.save()
        project.policy = row
        recomputed = 0
        for report in Report.objects.filter(project=project, closed_at__isnull=True).select_related("project__policy"):
            timing.refresh(report, policy)
            report.save(update_fields=list(timing.REFRESHED_FIELDS))
            recomputed += 1
        record_event(
            Tag.POLICY_CHANGED, actor=acting_user, target=project, project=project,
            data={"changes": {k: {"old": _plain(v["old"]), "new": _plain(v["new"])} for k, v in changes.items()},
                  "reports_recomputed": recomputed},
        )  # fmt: skip
    return policy


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def check_repository(url: str) -> None:
    """An https:// URL on a public address, or a local path the operator allowed (see fixes/git.py)."""
    from django.conf import settings

    from embargo.fixes import git

    try:
        git.check_repository(
            url, allowed_paths=settings.EMBARGO_GIT_ALLOWED_PATHS, allow_private=settings.EMBARGO_ALLOW_PRIVATE_NETWORK
        )
    except git.GitError as e:
        raise ProjectError(f"`repository_url`: {e}", field="repository_url") from None


def do_change_project(project: Project, changes: dict[str, object], *, acting_user: User | None) -> Project:
    """The owners' settings: name, repository, supported branches, private CI's test command and extras, the
    announcement lists."""
    from embargo.fixes import git

    for name in ANNOUNCEMENT_LISTS:
        if name in changes:
            changes[name] = clean_addresses(changes[name] or [], name, maximum=MAX_LIST_ADDRESSES)  # type: ignore[arg-type]

    if changes.get("repository_url"):
        check_repository(str(changes["repository_url"]))
    if "supported_branches" in changes:
        branches = list(dict.fromkeys(changes["supported_branches"] or []))  # type: ignore[call-overload]
        for i, branch in enumerate(branches):
            if not git.is_branch_name(branch):
                raise ProjectError(
                    f"`supported_branches.{i}`: {branch!r} is not a branch name.", field=f"supported_branches.{i}"
                )
        changes["supported_branches"] = branches
    if changes.get("translation_enabled") and not settings.EMBARGO_TRANSLATION_PROVIDER:
        raise ProjectError(
            "This Embargo instance has no translation service: its operator sets EMBARGO_TRANSLATION_PROVIDER.",
            field="translation_enabled",
        )
    if changes.get("public_issues_url"):
        url = str(changes["public_issues_url"]).strip()
        if not url.startswith("https://") or any(c.isspace() for c in url):
            raise ProjectError("`public_issues_url`: an https:// address without spaces.", field="public_issues_url")
        changes["public_issues_url"] = url
    if "team_languages" in changes:
        changes["team_languages"] = clean_languages(changes["team_languages"] or [])  # type: ignore[arg-type]
    if "intake_address" in changes:
        from embargo.mailin.actions import clean_intake_address

        changes["intake_address"] = clean_intake_address(project, changes["intake_address"])
    for name in RETENTION_DAYS:
        if name in changes:
            try:
                changes[name] = retention.check_days(changes[name], name)
            except ValueError as e:
                raise ProjectError(str(e), field=name) from None
    with transaction.atomic():
        data = {}
        for name, value in changes.items():
            old = getattr(project, name)
            if old != value:
                data[name] = {"old": old, "new": value}
                setattr(project, name, value)
        if data:
            project.save(update_fields=list(data))
            record_event(Tag.PROJECT_SETTINGS_CHANGED, actor=acting_user, target=project, project=project, data=data)
        if data.keys() & set(RETENTION_DAYS):
            from embargo.reports import retention as report_retention

            report_retention.reschedule(project)
    return project


# The retention rule's settings (domain/retention.py): days, or None to keep.
RETENTION_DAYS = ("purge_spam_after_days", "purge_rejected_after_days")


def clean_languages(values: Iterable[str]) -> list[str]:
    """The team's languages: 1 to 10 ISO 639-1 codes Embargo knows, repeated ones dropped, order kept."""
    from embargo.languages import names

    codes = list(dict.fromkeys(str(v).strip().lower() for v in values if str(v).strip()))
    if not codes or len(codes) > 10:
        raise ProjectError("`team_languages`: name 1 to 10 languages (ISO 639-1, e.g. en, de).", field="team_languages")
    for i, code in enumerate(codes):
        if not names.known(code):
            raise ProjectError(
                f"`team_languages.{i}`: {code!r} is not a language code Embargo knows (ISO 639-1, e.g. en).",
                field=f"team_languages.{i}",
            )
    return codes


# --- announcement lists and packagers ------------------------------------------------------------------------

ANNOUNCEMENT_LISTS = ("preannounce_lists", "announce_lists")
MAX_LIST_ADDRESSES = 20
MAX_PACKAGER_ADDRESSES = 10
MAX_REASON = 2000


def clean_addresses(values: Iterable[str], field: str, *, minimum: int = 0, maximum: int) -> list[str]:
    """E-mail addresses, each checked (the error names `field.N`), repeated ones dropped (whatever their case)."""
    values = list(values)
    if len(values) > maximum:
        raise ProjectError(f"`{field}`: at most {maximum} addresses.", field=field)
    seen: dict[str, str] = {}
    for i, value in enumerate(values):
        address = str(value).strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ProjectError(f"`{field}.{i}`: {address!r} is not an e-mail address.", field=f"{field}.{i}") from None
        seen.setdefault(address.lower(), address)
    if len(seen) < minimum:
        raise ProjectError(f"`{field}`: give at least {minimum} e-mail address.", field=field)
    return list(seen.values())


def _packager_key(public_key: str) -> openpgp.KeyInfo | None:
    """An optional armoured public key, checked on entry: it must be able to take encryption now."""
    if not public_key.strip():
        return None
    try:
        return openpgp.inspect_public_key(public_key, now=clock.now(), purpose="encrypt")
    except openpgp.KeyRefused as e:
        raise ProjectError(f"The key was refused: {e.reason}.", field="public_key", code="key_refused") from None


def _packager_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """organisation, contact_name, emails and public_key checked and cleaned; the key's fingerprint and expiry
    added. Only the fields given are checked (a change may give one)."""
    cleaned: dict[str, Any] = {}
    if "organisation" in fields:
        organisation = " ".join(str(fields["organisation"] or "").split())
        if not organisation:
            raise ProjectError("`organisation` is required.", field="organisation")
        if len(organisation) > 200:
            raise ProjectError("`organisation`: at most 200 characters.", field="organisation")
        cleaned["organisation"] = organisation
    if "contact_name" in fields:
        contact = " ".join(str(fields["contact_name"] or "").split())
        if len(contact) > 200:
            raise ProjectError("`contact_name`: at most 200 characters.", field="contact_name")
        cleaned["contact_name"] = contact
    if "emails" in fields:
        cleaned["emails"] = clean_addresses(fields["emails"] or [], "emails", minimum=1, maximum=MAX_PACKAGER_ADDRESSES)
    if "public_key" in fields:
        public_key = str(fields["public_key"] or "").strip()
        info = _packager_key(public_key)
        cleaned["public_key"] = public_key + "\n" if info else ""
        cleaned["key_fingerprint"] = info.fingerprint if info else ""
        cleaned["key_expires_at"] = info.expires_at if info else None
    return cleaned


def _key_summary(fingerprint: str, expires_at: Any) -> dict[str, Any] | None:
    return (
        {"fingerprint": fingerprint, "expires_at": expires_at.isoformat() if expires_at else None}
        if fingerprint
        else None
    )


def do_add_packager(
    project: Project,
    *,
    organisation: str,
    emails: list[str],
    contact_name: str = "",
    public_key: str = "",
    acting_user: User | None,
) -> Packager:
    """A downstream distributor on the project's list: it gets the embargo notices of later releases."""
    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    fields = _packager_fields(
        {"organisation": organisation, "contact_name": contact_name, "emails": emails, "public_key": public_key}
    )
    with transaction.atomic():
        packager = Packager.objects.create(project=project, created_at=clock.now(), **fields)
        record_event(
            Tag.PACKAGER_ADDED, actor=acting_user, target=packager, project=project,
            data={"organisation": packager.organisation, "contact_name": packager.contact_name,
                  "emails": packager.emails, "key": _key_summary(packager.key_fingerprint, packager.key_expires_at)},
        )  # fmt: skip
    return packager


def do_change_packager(packager: Packager, changes: dict[str, Any], *, acting_user: User | None) -> Packager:
    """Changes organisation, contact_name, emails or public_key (an empty key removes it). An address taken off
    the list takes the packager's personal links with it (the link version is bumped)."""
    require_permission(packager.project, acting_user, Permission.MANAGE_PROJECT)
    unknown = set(changes) - {"organisation", "contact_name", "emails", "public_key"}
    if unknown:
        raise ProjectError(f"`{sorted(unknown)[0]}` cannot be changed.", field=sorted(unknown)[0])
    fields = _packager_fields(changes)
    with transaction.atomic():
        row = Packager.objects.select_for_update().filter(pk=packager.pk, removed_at__isnull=True).first()
        if row is None:
            raise NotFound
        data: dict[str, Any] = {}
        for name in ("organisation", "contact_name", "emails"):
            if name in fields and getattr(row, name) != fields[name]:
                data[name] = {"old": getattr(row, name), "new": fields[name]}
        if "public_key" in fields and row.key_fingerprint != fields["key_fingerprint"]:
            data["key"] = {
                "old": _key_summary(row.key_fingerprint, row.key_expires_at),
                "new": _key_summary(fields["key_fingerprint"], fields["key_expires_at"]),
            }
        if not data and not ("public_key" in fields and row.public_key != fields["public_key"]):
            return row
        for name, value in fields.items():
            setattr(row, name, value)
        update = list(fields)
        if "emails" in data and {e.lower() for e in data["emails"]["old"]} - {e.lower() for e in data["emails"]["new"]}:
            row.link_version += 1
            update.append("link_version")
            data["links_revoked"] = True
        row.save(update_fields=update)
        if data:
            record_event(Tag.PACKAGER_CHANGED, actor=acting_user, target=row, project=row.project, data=data)
    return row


def do_remove_packager(packager: Packager, *, acting_user: User | None) -> None:
    """Takes the packager off the list. The row stays for the record of earlier notices; its personal links
    stop working (the link version is bumped)."""
    require_permission(packager.project, acting_user, Permission.MANAGE_PROJECT)
    with transaction.atomic():
        removed = Packager.objects.filter(pk=packager.pk, removed_at__isnull=True).update(
            removed_at=clock.now(), link_version=F("link_version") + 1
        )
        if not removed:
            raise NotFound
        record_event(
            Tag.PACKAGER_REMOVED, actor=acting_user, target=packager, project=packager.project,
            data={"organisation": packager.organisation},
        )  # fmt: skip


def _page_link(name: str, project: Project) -> str:
    return settings.EMBARGO_BASE_URL + reverse(name, args=[project.slug])


def do_request_packager(
    project: Project,
    *,
    organisation: str,
    emails: list[str],
    reason: str,
    contact_name: str = "",
    public_key: str = "",
) -> PackagerRequest:
    """Someone, with or without an account, asks to join the project's packager list; the owners are told.
    The answer says nothing of the list itself: the same whether or not the address is on it already.
    A second pending request from one of the same addresses is refused (409 `request_pending`)."""
    fields = _packager_fields(
        {"organisation": organisation, "contact_name": contact_name, "emails": emails, "public_key": public_key}
    )
    reason = str(reason or "").strip()
    if not reason:
        raise ProjectError("`reason` is required: say who you are and what you package.", field="reason")
    if len(reason) > MAX_REASON:
        raise ProjectError(f"`reason`: at most {MAX_REASON} characters.", field="reason")
    with transaction.atomic():
        # Requests of one project are taken one at a time, so two at once cannot both pass the check below.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        asked = {e.lower() for e in fields["emails"]}
        for pending in PackagerRequest.objects.filter(project=project, status=PackagerRequestStatus.PENDING):
            if asked & {e.lower() for e in pending.emails}:
                raise ProjectError(
                    "A request from this address waits for the project's owners already.",
                    field="emails", code="request_pending", status=409,
                )  # fmt: skip
        request = PackagerRequest.objects.create(project=project, reason=reason, created_at=clock.now(), **fields)
        record_event(
            Tag.PACKAGER_REQUESTED, actor=None, target=request, project=project,
            data={"organisation": request.organisation, "emails": request.emails,
                  "key": _key_summary(request.key_fingerprint, request.key_expires_at)},
        )  # fmt: skip
        owners = Membership.objects.filter(
            project=project, role=Role.OWNER, user__email_verified_at__isnull=False
        ).select_related("user")
        for membership in owners:
            queue_email(
                "packager_request_received",
                to=membership.user,
                context={
                    "project_name": project.name,
                    "organisation": request.organisation,
                    "contact_name": request.contact_name,
                    "has_key": bool(request.key_fingerprint),
                    "key_fingerprint": openpgp.fingerprint_display(request.key_fingerprint),
                    "link": _page_link("project-packagers", project),
                },
            )
    return request


def do_decide_packager_request(
    request: PackagerRequest, *, approve: bool, note: str = "", acting_user: User | None
) -> PackagerRequest:
    """An owner approves (the packager joins the list) or declines a pending request; the asker is told at
    each address it gave, with the owner's note when declined."""
    from embargo.projects.keys import active_key

    project = request.project
    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    note = str(note or "").strip()
    if len(note) > MAX_REASON:
        raise ProjectError(f"`note`: at most {MAX_REASON} characters.", field="note")
    with transaction.atomic():
        row = PackagerRequest.objects.select_for_update().get(pk=request.pk)
        if row.status != PackagerRequestStatus.PENDING:
            raise ProjectError(f"This request was {row.status} already.", code="request_decided", status=409)
        packager = None
        if approve:
            packager = do_add_packager(
                project,
                organisation=row.organisation,
                contact_name=row.contact_name,
                emails=list(row.emails),
                public_key=row.public_key,
                acting_user=acting_user,
            )
        row.status = PackagerRequestStatus.APPROVED if approve else PackagerRequestStatus.DECLINED
        row.decided_at = clock.now()
        row.decided_by = acting_user
        row.decision_note = note
        row.packager = packager
        row.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "packager"])
        record_event(
            Tag.PACKAGER_REQUEST_APPROVED if approve else Tag.PACKAGER_REQUEST_DECLINED,
            actor=acting_user, target=row, project=project,
            data={"organisation": row.organisation, "packager": packager.public_id if packager else None,
                  "note": note},
        )  # fmt: skip
        key = active_key(project) if approve else None
        for address in row.emails:
            queue_email(
                "packager_request_approved" if approve else "packager_request_declined",
                to=address,
                context={
                    "project_name": project.name,
                    "organisation": row.organisation,
                    "has_key": bool(row.key_fingerprint),
                    "key_fingerprint": openpgp.fingerprint_display(row.key_fingerprint),
                    "project_key_link": _page_link("project-key", project) if key else "",
                    "note": note,
                    "link": _page_link("packager-join", project),
                },
            )
    return row


# --- Mastodon ------------------------------------------------------------------------------------------------


def do_set_mastodon_account(project: Project, changes: dict[str, str], *, acting_user: User | None) -> None:
    """Where the project announces on Mastodon: `mastodon_instance_url` and `mastodon_access_token` (both the
    first time; the token is stored sealed and the audit log keeps only a hash). An empty instance URL removes
    the account."""
    from embargo.audit.actions import fingerprint
    from embargo.projects import mastodon
    from embargo.projects.models import MastodonAccount

    require_permission(project, acting_user, Permission.MANAGE_PROJECT)
    url = changes.get("mastodon_instance_url")
    token = changes.get("mastodon_access_token")
    if url:
        try:
            url = mastodon.check_instance_url(url.strip(), allow_private=settings.EMBARGO_ALLOW_PRIVATE_NETWORK)
        except mastodon.MastodonError as e:
            raise ProjectError(e.message, field="mastodon_instance_url") from None
    with transaction.atomic():
        account = MastodonAccount.objects.select_for_update().filter(project=project).first()
        data: dict[str, Any] = {}
        if url == "":
            if token:
                raise ProjectError("Give no token when removing the Mastodon account.", field="mastodon_access_token")
            if account is None:
                return
            data = {"instance_url": {"old": account.instance_url, "new": ""}, "access_token": "removed"}
            account.delete()
        else:
            if account is None:
                if not url or not token:
                    field = "mastodon_instance_url" if not url else "mastodon_access_token"
                    raise ProjectError("Give mastodon_instance_url and mastodon_access_token together.", field=field)
                account = MastodonAccount(project=project)
            if url and url != account.instance_url:
                data["instance_url"] = {"old": account.instance_url, "new": url}
                account.instance_url = url
            if token:
                account.access_token = token
                data["access_token"] = "changed " + fingerprint(token)
            account.save()
        if data:
            record_event(
                Tag.PROJECT_SETTINGS_CHANGED, actor=acting_user, target=project, project=project,
                data={"mastodon": data},
            )  # fmt: skip
