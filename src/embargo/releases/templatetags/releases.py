"""The project's public page shows the approved pre-announcements of its coming security releases."""

from __future__ import annotations

from django import template

from embargo.projects.models import Project
from embargo.releases import queries
from embargo.releases.models import SecurityRelease

register = template.Library()


@register.simple_tag
def upcoming_releases(project: Project) -> list[SecurityRelease]:
    """Only what the team approved for the public: the pre-announcement's text (versions, moment, severities)."""
    return queries.upcoming_public(project)
