from __future__ import annotations

from django.urls import path

from maeul.watch import views

urlpatterns = [
    path("", views.board, name="alert_board"),
    path("outcomes/", views.outcomes, name="alert_outcomes"),
    path("on-call/", views.on_call, name="on_call"),
    path("<int:alert_id>/", views.alert_detail, name="alert_detail"),
    path("<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("<int:alert_id>/note/", views.alert_note, name="alert_note"),
]
