"""A report made ready for a security release through the real HTTP API: confirmed, a fix with one patch per
branch, fix_ready, an advisory with a CVE ID, and the reporter's confirmation. Used by the Django-level tests
(with tests.helpers.Api) and the end-to-end ones (with a real server's `call`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = Callable[..., Any]  # (method, path, body=None, *, files=None) -> response with .status, .json, .text

BRANCHES = ("main", "2.31.x")


def patch_bytes(n: int, branch: str) -> bytes:
    return (
        f"diff --git a/src/requests/sessions.py b/src/requests/sessions.py\n--- a/src/requests/sessions.py\n"
        f"+++ b/src/requests/sessions.py\n@@ -1,1 +1,1 @@\n-old line {n}\n+new line {n} on {branch} \xe9\n"
    ).encode() + bytes([0xFF, 0x00, n])  # a few bytes that are not text, to see they arrive unchanged


def advisory(n: int, slug: str) -> dict[str, Any]:
    return {
        "summary": f"Issue {n}: proxy credentials leak on redirects",
        "details": f"Details of issue {n}.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
        "affected": [
            {
                "ecosystem": "PyPI",
                "package": slug,
                "ranges": [{"introduced": "0", "fixed": "2.32.4"}],
                "fixed_by_branch": {"main": "2.32.4", "2.31.x": "2.31.1"},
            }
        ],
    }


def ready_report(
    *, n: int, slug: str, reporter: Call, team: Call, upload: Callable[[str, str, str, bytes], Any]
) -> dict[str, Any]:
    """`reporter` and `team` are API callers; `upload(path, branch, filename, content)` posts a patch file.
    Returns the report id, its CVE ID and the patches as {filename: bytes}."""
    created = reporter("POST", f"/api/v1/projects/{slug}/reports", {"title": f"Issue {n}", "description": "Secret."})
    assert created.status == 201, created.text
    rid = created.json["id"]
    base = f"/api/v1/reports/{rid}"
    confirmed = team("POST", f"{base}/transitions", {"to": "confirmed", "comment": "Reproduced."})
    assert confirmed.status == 200, confirmed.text
    fix = team("POST", f"{base}/fixes", {"kind": "patch", "description": "Strip the header."})
    assert fix.status == 201, fix.text
    patches = {}
    for branch in BRANCHES:
        content = patch_bytes(n, branch)
        filename = f"fix-{n}-{branch}.patch"
        uploaded = upload(f"{base}/fixes/{fix.json['id']}/patches", branch, filename, content)
        assert uploaded.status == 201, uploaded.text
        patches[filename] = content
    assert team("POST", f"{base}/transitions", {"to": "fix_ready"}).status == 200
    saved = team("PUT", f"{base}/advisory", advisory(n, slug))
    assert saved.status == 200, saved.text
    cve_id = f"CVE-2026-{40000 + n}"
    cve = team("POST", f"{base}/cve", {"cve_id": cve_id})
    assert cve.status == 201, cve.text
    confirmation = reporter("POST", f"{base}/fix-confirmation", {"fixed": True, "comment": ""})
    assert confirmation.status == 200, confirmation.text
    return {"id": rid, "cve_id": cve_id, "advisory_id": cve.json["advisory_id"], "patches": patches}
