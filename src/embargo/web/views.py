from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "Embargo: coordinated vulnerability disclosure. The HTTP API is at /api/v1 "
        "(its OpenAPI document: /api/v1/openapi.json).\n",
        content_type="text/plain; charset=utf-8",
    )
