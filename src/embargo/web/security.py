"""What the public security documents of the instance and of each project are made of: the data that
`embargo.formats.securitytxt` and `embargo.formats.policy_document` turn into security.txt and SECURITY.md,
gathered from the configuration and the project's policy, key and packager list."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from embargo.formats import securitytxt
from embargo.formats.policy_document import PolicyDocument, PolicyPackager
from embargo.languages import names, providers
from embargo.languages.actions import translation_available
from embargo.projects import keys
from embargo.projects.models import Packager, Project
from embargo.vault.openpgp import fingerprint_display


def absolute(path: str) -> str:
    return settings.EMBARGO_BASE_URL + path


def instance_security_txt(now: dt.datetime) -> securitytxt.SecurityTxt:
    """The instance's own file: its operators' contact (EMBARGO_SECURITY_CONTACT, the home page by default)."""
    return securitytxt.SecurityTxt(
        contacts=tuple(settings.EMBARGO_SECURITY_CONTACT) or (absolute("/"),),
        expires=securitytxt.expires_at(now),
        canonical=absolute(reverse("security-txt")),
        policy=settings.EMBARGO_SECURITY_POLICY_URL,
        preferred_languages=tuple(settings.EMBARGO_SECURITY_LANGUAGES),
    )


def project_security_txt(project: Project, now: dt.datetime) -> securitytxt.SecurityTxt:
    """A project's file: reports go to its report form; its policy is its generated SECURITY.md."""
    encryption = (absolute(reverse("project-key", args=[project.slug])),) if keys.has_active_key(project) else ()
    return securitytxt.SecurityTxt(
        contacts=(absolute(reverse("project", args=[project.slug])),),
        expires=securitytxt.expires_at(now),
        canonical=absolute(reverse("project-security-txt", args=[project.slug])),
        policy=absolute(reverse("project-security-md", args=[project.slug])),
        acknowledgments=absolute(f"/projects/{project.slug}/security"),
        # The languages its team reads (reports in others are welcome too, and recognised).
        preferred_languages=tuple(project.languages_read),
        encryption=encryption,
    )


def policy_document(project: Project) -> PolicyDocument:
    key = keys.active_key(project)
    packagers = Packager.objects.filter(project=project, removed_at__isnull=True).order_by("organisation", "id")
    return PolicyDocument(
        project_name=project.name,
        policy=project.policy.as_domain(),
        report_url=absolute(reverse("project", args=[project.slug])),
        join_url=absolute(reverse("packager-join", args=[project.slug])),
        package=f"{project.package_ecosystem}:{project.package_name}" if project.package_name else "",
        repository_url=project.repository_url if project.repository_url.startswith("https://") else "",
        security_page_url=absolute(f"/projects/{project.slug}/security"),
        key_url=absolute(reverse("project-key", args=[project.slug])) if key else "",
        key_fingerprint=fingerprint_display(key.fingerprint) if key else "",
        packagers=[PolicyPackager(p.organisation, p.contact_name) for p in packagers],
        team_languages=[names.english_name(code) for code in project.languages_read],
        translation_service=(providers.describe() or "") if translation_available(project) else "",
    )
