"""Device pages, included from the project's URLs at the root."""

from __future__ import annotations

from django.urls import path

from maeul.sensing import views

urlpatterns = [
    path("households/<int:household_id>/devices/", views.household_devices, name="household_devices"),
    path("households/<int:household_id>/devices/new/", views.device_create, name="device_create"),
    path("devices/", views.device_list, name="device_list"),
    path("devices/import/", views.device_import, name="device_import"),
    path("devices/<int:device_id>/edit/", views.device_edit, name="device_edit"),
    path("devices/<int:device_id>/deactivate/", views.device_deactivate, name="device_deactivate"),
    path("devices/unclaimed/", views.unclaimed_list, name="unclaimed_list"),
    path("devices/unclaimed/households/", views.household_search, name="unclaimed_household_search"),
    path("devices/unclaimed/<int:unclaimed_id>/claim/", views.unclaimed_claim, name="unclaimed_claim"),
    path("devices/unclaimed/<int:unclaimed_id>/ignore/", views.unclaimed_ignore, name="unclaimed_ignore"),
    path("devices/dead-letters/", views.dead_letter_list, name="dead_letter_list"),
    path("gateways/", views.gateway_list, name="gateway_list"),
    path("gateways/new/", views.gateway_create, name="gateway_create"),
    path("gateways/<int:gateway_id>/edit/", views.gateway_edit, name="gateway_edit"),
    path("gateways/<int:gateway_id>/rotate/", views.gateway_rotate, name="gateway_rotate"),
    path("gateways/<int:gateway_id>/deactivate/", views.gateway_deactivate, name="gateway_deactivate"),
]
