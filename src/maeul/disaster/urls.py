from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.disaster import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("disaster/", views.response_list, name="disaster_list"),
    path("disaster/activate/", views.activate, name="disaster_activate"),
    path("disaster/upload/", views.upload, name="disaster_upload"),
    path("disaster/my/", views.my_roll_call, name="disaster_my"),
    path("disaster/plans/", views.plans, name="disaster_plans"),
    path("disaster/plans/<str:hazard>/", views.plan_edit, name="disaster_plan_edit"),
    path("disaster/zones/", views.zones, name="disaster_zones"),
    path("disaster/sources/", views.sources, name="disaster_sources"),
    path("disaster/contacts/<int:entry_id>/", views.record_contact, name="disaster_contact"),
    path("disaster/<int:response_id>/", views.board, name="disaster_board"),
    path("disaster/<int:response_id>/map.json", views.map_json, name="disaster_map"),
    path("disaster/<int:response_id>/reassign/", views.reassign, name="disaster_reassign"),
    path("disaster/<int:response_id>/checklist/<int:line_id>/", views.tick, name="disaster_tick"),
    path("disaster/<int:response_id>/act/", views.act, name="disaster_act"),
    path("disaster/<int:response_id>/report/", views.report, name="disaster_report"),
    path("disaster/<int:response_id>/roll-call.csv", views.roll_call_csv, name="disaster_roll_call_csv"),
    path("disaster/<int:response_id>/review/", views.review, name="disaster_review"),
]
