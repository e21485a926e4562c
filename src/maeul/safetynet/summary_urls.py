from __future__ import annotations

from django.urls import path

from maeul.safetynet import summary_views

urlpatterns = [
    path("reports/safety-net/", summary_views.safety_net_report, name="safety_net_report"),
    path("households/<int:household_id>/timeline/", summary_views.household_timeline, name="household_timeline"),
]
