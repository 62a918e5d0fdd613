from django.urls import include, path

from embargo.accounts import views as account_views
from embargo.api import api
from embargo.projects import views as project_views
from embargo.releases import packager_views
from embargo.releases import views as release_views
from embargo.reports import views as report_views
from embargo.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("api/v1/", api.urls),
    path("account/", include(account_views.urlpatterns)),
    path("projects/<slug:slug>/", project_views.project_page, name="project"),
    path("projects/<slug:slug>/inbox/", project_views.inbox, name="inbox"),
    path("projects/<slug:slug>/dashboard/", project_views.dashboard, name="dashboard"),
    path("projects/<slug:slug>/settings/", project_views.project_settings, name="project-settings"),
    path("projects/<slug:slug>/settings/packagers/", project_views.project_packagers, name="project-packagers"),
    path("projects/<slug:slug>/packagers/join/", project_views.packager_join, name="packager-join"),
    path("projects/<slug:slug>/pgp-key.asc", project_views.project_key, name="project-key"),
    path("projects/<slug:slug>/releases/", release_views.releases_page, name="releases"),
    path("projects/<slug:slug>/releases/<str:release_id>/", release_views.release_page, name="release"),
    path("reports/", report_views.my_reports, name="my-reports"),
    path("reports/<str:report_id>/", report_views.report_page, name="report"),
    path("reports/<str:report_id>/attachments/<str:attachment_id>/", report_views.download, name="download"),
    # The reporter's private link: the same pages, for one report, without an account.
    path("r/<str:report_id>/<str:token>/", report_views.report_page, name="report-link"),
    path(
        "r/<str:report_id>/<str:token>/attachments/<str:attachment_id>/",
        report_views.download,
        name="download-link",
    ),
    # A packager's personal links from an embargo notice.
    path("", include(packager_views.urlpatterns)),
]
