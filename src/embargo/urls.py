from django.urls import include, path

from embargo.accounts import views as account_views
from embargo.api import api
from embargo.projects import views as project_views
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
]
