"""The helper's phone pages, all under /helper/ so the service worker's scope covers them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.safetynet import phone

urlpatterns: list[URLPattern | URLResolver] = [
    path("helper/", phone.helper_home, name="helper_home"),
    path("helper/sw.js", phone.service_worker, name="helper_service_worker"),
    path("helper/check-ins", phone.check_in_api, name="helper_check_in_api"),
    path("helper/check-in/<int:household_id>/", phone.check_in, name="helper_check_in"),
    path("helper/alerts/<int:alert_id>/acknowledge/", phone.acknowledge_alert, name="helper_alert_acknowledge"),
]
