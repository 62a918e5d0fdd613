"""HTTP details shared by the API and the pages for reports' files."""

from __future__ import annotations

import unicodedata

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from embargo.reports import actions
from embargo.reports.models import Attachment


def clean_filename(name: str) -> str:
    """A file name without folders or control characters, at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:255] or "attachment"


def download_response(content: bytes, filename: str, sha256: str) -> HttpResponse:
    """A file only ever as a download: a browser must not render or sniff what a stranger sent."""
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store"
    response["X-Embargo-SHA256"] = sha256
    return response


def attachment_response(attachment: Attachment) -> HttpResponse:
    return download_response(actions.read_attachment(attachment), attachment.filename, attachment.sha256)
