from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.safetynet import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("helpers/", views.helper_list, name="helper_list"),
    path("helpers/new/", views.helper_create, name="helper_create"),
    path("helpers/coverage/", views.coverage, name="helper_coverage"),
    path("helpers/handover/", views.handover, name="helper_handover"),
    path("helpers/<int:helper_id>/", views.helper_detail, name="helper_detail"),
    path("helpers/<int:helper_id>/edit/", views.helper_edit, name="helper_edit"),
    path("helpers/<int:helper_id>/records/", views.helper_record, name="helper_record"),
    path("helpers/<int:helper_id>/active/", views.helper_active, name="helper_active"),
    path("helpers/assignments/<int:assignment_id>/end/", views.assignment_end, name="assignment_end"),
    path("helpers/schedules/<int:schedule_id>/end/", views.schedule_end, name="schedule_end"),
    path("households/<int:household_id>/helpers/", views.household_helpers, name="household_helpers"),
    path(
        "households/<int:household_id>/helpers/suggestions/",
        views.household_suggestions,
        name="household_helper_suggestions",
    ),
    path("households/<int:household_id>/helpers/assign/", views.household_assign, name="household_assign_helper"),
    path("households/<int:household_id>/schedules/", views.household_schedule, name="household_schedule"),
]
