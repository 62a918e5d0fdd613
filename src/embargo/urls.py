from django.urls import include, path, re_path

from embargo.accounts import key_views, privacy_views, second_factor_views, token_views
from embargo.accounts import views as account_views
from embargo.advisories import osv_api, public_views
from embargo.api import api
from embargo.audit import views as audit_views
from embargo.projects import views as project_views
from embargo.releases import packager_views
from embargo.releases import views as release_views
from embargo.reports import transfer_views
from embargo.reports import views as report_views
from embargo.web import views
from embargo.webhooks import views as webhook_views

# Advisory IDs (ours and imported: EMB-2026-0001, x_EMB-2026-0001, GHSA-…, PYSEC-…) hold no dots, so the
# record suffixes (.json, .cve.json, .csaf.json) are unambiguous.
ADVISORY_ID = r"[A-Za-z0-9_:-]{1,64}"

urlpatterns = [
    path("", views.home, name="home"),
    path(".well-known/security.txt", views.security_txt, name="security-txt"),
    path("api/v1/", api.urls),
    path("account/", include(account_views.urlpatterns)),
    path("account/", include(privacy_views.urlpatterns)),
    path("account/", include(second_factor_views.urlpatterns)),
    path("account/", include(token_views.urlpatterns)),
    path("account/", include(key_views.urlpatterns)),
    path("projects/<slug:slug>/", project_views.project_page, name="project"),
    path("projects/<slug:slug>/inbox/", project_views.inbox, name="inbox"),
    path("projects/<slug:slug>/dashboard/", project_views.dashboard, name="dashboard"),
    path("projects/<slug:slug>/settings/", project_views.project_settings, name="project-settings"),
    path("projects/<slug:slug>/settings/packagers/", project_views.project_packagers, name="project-packagers"),
    path("projects/<slug:slug>/settings/reads/", audit_views.project_reads, name="project-reads"),
    path("projects/<slug:slug>/settings/webhooks/", include(webhook_views.urlpatterns)),
    path("projects/<slug:slug>/packagers/join/", project_views.packager_join, name="packager-join"),
    path("projects/<slug:slug>/pgp-key.asc", project_views.project_key, name="project-key"),
    path("projects/<slug:slug>/security.txt", views.project_security_txt, name="project-security-txt"),
    path("projects/<slug:slug>/SECURITY.md", views.project_security_md, name="project-security-md"),
    path("projects/<slug:slug>/releases/", release_views.releases_page, name="releases"),
    path("projects/<slug:slug>/releases/<str:release_id>/", release_views.release_page, name="release"),
    path("reports/", report_views.my_reports, name="my-reports"),
    path("reports/<str:report_id>/", report_views.report_page, name="report"),
    path("reports/<str:report_id>/attachments/<str:attachment_id>/", report_views.download, name="download"),
    path("reports/<str:report_id>/transfer/", transfer_views.transfer, name="report-transfer"),
    path(
        "reports/<str:report_id>/transfers/<str:transfer_id>/stop-informing/",
        transfer_views.stop_informing,
        name="transfer-stop-informing",
    ),
    path("projects/<slug:slug>/transfers/", transfer_views.transfers_page, name="transfers"),
    path("projects/<slug:slug>/transfers/<str:transfer_id>/", transfer_views.transfer_stub, name="transfer-stub"),
    # The reporter's private link: the same pages, for one report, without an account.
    path("r/<str:report_id>/<str:token>/", report_views.report_page, name="report-link"),
    path(
        "r/<str:report_id>/<str:token>/attachments/<str:attachment_id>/",
        report_views.download,
        name="download-link",
    ),
    # Published advisories in public: pages, records, feed, zip and the OSV-compatible API.
    re_path(rf"^advisories/(?P<advisory_id>{ADVISORY_ID})\.cve\.json$", public_views.advisory_cve, name="advisory-cve"),
    re_path(
        rf"^advisories/(?P<advisory_id>{ADVISORY_ID})\.csaf\.json$", public_views.advisory_csaf, name="advisory-csaf"
    ),
    re_path(rf"^advisories/(?P<advisory_id>{ADVISORY_ID})\.json$", public_views.advisory_osv, name="advisory-osv"),
    re_path(rf"^advisories/(?P<advisory_id>{ADVISORY_ID})$", public_views.advisory_page, name="advisory"),
    path("projects/<slug:slug>/security", public_views.project_security, name="project-security"),
    path("projects/<slug:slug>/advisories.atom", public_views.project_feed, name="advisories-feed"),
    path("osv/all.zip", public_views.osv_all_zip, name="osv-all"),
    path("osv/v1/query", osv_api.query, name="osv-query"),
    path("osv/v1/querybatch", osv_api.querybatch, name="osv-querybatch"),
    re_path(rf"^osv/v1/vulns/(?P<vuln_id>{ADVISORY_ID})$", osv_api.vuln, name="osv-vuln"),
    # A packager's personal links from an embargo notice.
    path("", include(packager_views.urlpatterns)),
]
