from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from embargo.projects.models import Project


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"projects": Project.objects.order_by("name")})
