"""Open311 GeoReport v2 routes, included under /open311/: discovery, and the v2 endpoint's six methods.

Every resource ends in .xml or .json (``maeul.safety.open311.endpoint`` refuses any other suffix).
"""

from __future__ import annotations

from django.urls import path

from maeul.safety import open311

urlpatterns = [
    path("discovery.<str:fmt>", open311.discovery, name="open311_discovery"),
    path("v2/services.<str:fmt>", open311.service_list, name="open311_services"),
    path("v2/services/<str:service_code>.<str:fmt>", open311.service_definition, name="open311_service"),
    path("v2/requests.<str:fmt>", open311.service_requests, name="open311_requests"),
    path("v2/requests/<str:service_request_id>.<str:fmt>", open311.service_request, name="open311_request"),
    path("v2/tokens/<str:token>.<str:fmt>", open311.request_for_token, name="open311_token"),
]
