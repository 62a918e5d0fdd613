"""What a packager reaches through its personal links: the notices it was sent, and nothing else.

A link is refused (404, as for anything that may not be seen) when its token does not match, when the packager
was removed from the list, and, for the access link, once the release is published (the advisories are public
then) or when the packager was never sent a notice of that release."""

from __future__ import annotations

from embargo.accounts.access import NotFound
from embargo.fixes.models import Patch
from embargo.releases import links
from embargo.releases.models import PackagerNotice, SecurityRelease
from embargo.releases.notices import Issue, issues_of


def notice_by_ack_link(notice_id: str, token: str) -> PackagerNotice:
    notice = (
        PackagerNotice.objects.select_related("packager", "release__project__policy")
        .filter(public_id=notice_id, packager__removed_at__isnull=True)
        .first()
    )
    if notice is None or not links.ack_token_valid(notice, token):
        raise NotFound
    return notice


def latest_notice(packager_id: str, release_id: str, token: str) -> PackagerNotice:
    """The last notice this packager was sent for this release, if the access link is good."""
    notice = (
        PackagerNotice.objects.select_related("packager", "release__project__policy")
        .filter(
            packager__public_id=packager_id,
            packager__removed_at__isnull=True,
            release__public_id=release_id,
            release__published_at__isnull=True,
        )
        .order_by("-round")
        .first()
    )
    if notice is None or not links.access_token_valid(notice.packager, notice.release, token):
        raise NotFound
    return notice


def issues_for_packager(notice: PackagerNotice) -> list[Issue]:
    """The issues of the latest notice that still belong to the release (one taken out is no longer shown)."""
    release: SecurityRelease = notice.release
    current = set(release.entries.values_list("report__public_id", flat=True))
    return [issue for issue in issues_of(notice) if issue.report.public_id in current]


def patch_for_packager(notice: PackagerNotice, patch_id: str) -> Patch:
    for issue in issues_for_packager(notice):
        for patch in issue.patches:
            if patch.public_id == patch_id:
                return patch
    raise NotFound
