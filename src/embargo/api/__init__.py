"""The HTTP API, `/api/v1` (see DESIGN.md "HTTP API")."""

from __future__ import annotations

from ninja import NinjaAPI

from embargo import __version__
from embargo.api import errors
from embargo.api.auth import TokenAuth
from embargo.api.parser import StrictJsonParser

api = NinjaAPI(
    title="Embargo",
    version=__version__,
    description=("Coordinated vulnerability disclosure: private reports, the disclosure workflow and advisories."),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url=None,
    parser=StrictJsonParser(),
)
errors.install(api)


def _mount() -> None:
    from embargo.accounts.api import router as accounts_router
    from embargo.advisories.api import router as advisories_router
    from embargo.audit.api import router as audit_router
    from embargo.fixes.api import router as fixes_router
    from embargo.languages.api import router as languages_router
    from embargo.projects.api import router as projects_router
    from embargo.releases.api import router as releases_router
    from embargo.reports.api import router as reports_router
    from embargo.webhooks.api import router as webhooks_router

    api.add_router("/", reports_router)
    api.add_router("/", projects_router)
    api.add_router("/", fixes_router)
    api.add_router("/", advisories_router)
    api.add_router("/", releases_router)
    api.add_router("/", languages_router)
    api.add_router("/", accounts_router)
    api.add_router("/", audit_router)
    api.add_router("/", webhooks_router)


_mount()
