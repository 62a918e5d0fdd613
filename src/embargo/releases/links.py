"""A packager's personal links in an embargo notice, HMAC-signed like the reporters' private links
(DESIGN.md "Links in e-mail"); no token is stored.

- The acknowledgement link names one notice and is bound to its packager: it works once (the notice keeps the
  moment it was acknowledged) and for no other packager's notice.
- The access link names the packager and the release: it opens the embargoed advisories and patches the packager
  was sent, until publication, or until the packager is removed from the list (which bumps its `link_version`)."""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from embargo.projects.models import Packager
from embargo.releases.models import PackagerNotice, SecurityRelease

ACK_SALT = "embargo.releases.acknowledgement"
ACCESS_SALT = "embargo.releases.packager-access"


def _sign(salt: str, value: str) -> str:
    return salted_hmac(salt, value, algorithm="sha256").hexdigest()[:32]


def _ack_token(notice: PackagerNotice) -> str:
    packager = notice.packager
    return _sign(ACK_SALT, f"{notice.public_id}:{packager.public_id}:{packager.link_version}")


def ack_path(notice: PackagerNotice) -> str:
    return f"/packagers/ack/{notice.public_id}/{_ack_token(notice)}/"


def ack_link(notice: PackagerNotice) -> str:
    return settings.EMBARGO_BASE_URL + ack_path(notice)


def ack_token_valid(notice: PackagerNotice, token: str) -> bool:
    return constant_time_compare(_ack_token(notice), token)


def _access_token(packager: Packager, release: SecurityRelease) -> str:
    return _sign(ACCESS_SALT, f"{packager.public_id}:{release.public_id}:{packager.link_version}")


def access_path(packager: Packager, release: SecurityRelease) -> str:
    return f"/packagers/{packager.public_id}/releases/{release.public_id}/{_access_token(packager, release)}/"


def access_link(packager: Packager, release: SecurityRelease) -> str:
    return settings.EMBARGO_BASE_URL + access_path(packager, release)


def access_token_valid(packager: Packager, release: SecurityRelease, token: str) -> bool:
    return constant_time_compare(_access_token(packager, release), token)
