from __future__ import annotations

from django.urls import path

from maeul.programme import views

urlpatterns = [
    path("programme/", views.programme_home, name="programme_home"),
    path("programme/calls/new/", views.call_create, name="programme_call_create"),
    path("programme/calls/<int:call_id>/", views.call_detail, name="programme_call"),
    path("programme/calls/<int:call_id>/edit/", views.call_edit, name="programme_call_edit"),
    path("programme/calls/<int:call_id>/apply/", views.application_create, name="programme_apply"),
    path("programme/calls/<int:call_id>/<str:step>/", views.call_action, name="programme_call_action"),
    path("programme/applications/<int:application_id>/", views.application_detail, name="programme_application"),
    path(
        "programme/applications/<int:application_id>/edit/", views.application_edit, name="programme_application_edit"
    ),
    path(
        "programme/applications/<int:application_id>/evaluation/<str:step>/",
        views.evaluation_action,
        name="programme_evaluation_action",
    ),
    path(
        "programme/applications/<int:application_id>/<str:step>/",
        views.application_action,
        name="programme_application_action",
    ),
    path("programme/attachments/<int:attachment_id>/", views.attachment_download, name="programme_attachment"),
    path("programme/grants/<int:grant_id>/", views.grant_detail, name="programme_grant"),
    path("programme/dashboard/", views.dashboard, name="programme_dashboard"),
    path("programme/sites/<int:site_id>/report/", views.site_report, name="programme_site_report"),
]
