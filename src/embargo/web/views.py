from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from embargo import clock
from embargo.formats import policy_document, securitytxt
from embargo.projects.models import Project
from embargo.web import security


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"projects": Project.objects.order_by("name")})


@require_http_methods(["GET", "HEAD"])
def security_txt(request: HttpRequest) -> HttpResponse:
    """The instance's `/.well-known/security.txt` (RFC 9116)."""
    text = securitytxt.render(security.instance_security_txt(clock.now()))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def project_security_txt(request: HttpRequest, slug: str) -> HttpResponse:
    """A project's security.txt: where to report, its policy, its key, its acknowledgments."""
    project = get_object_or_404(Project, slug=slug)
    text = securitytxt.render(security.project_security_txt(project, clock.now()))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def project_security_md(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's disclosure policy as the SECURITY.md that `embargo policy render` writes."""
    project = get_object_or_404(Project.objects.select_related("policy"), slug=slug)
    text = policy_document.render_markdown(security.policy_document(project))
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")
