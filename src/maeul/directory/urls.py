from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.directory import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("directory/", views.search, name="directory_search"),
    path("directory/import/", views.import_view, name="directory_import"),
    path("directory/export.json", views.export_json, name="directory_export_json"),
    path("directory/export.zip", views.export_zip, name="directory_export_zip"),
    path("directory/organizations/new/", views.organization_create, name="directory_organization_create"),
    path("directory/organizations/<uuid:organization_id>/", views.organization_detail, name="directory_organization"),
    path(
        "directory/organizations/<uuid:organization_id>/edit/",
        views.organization_edit,
        name="directory_organization_edit",
    ),
    path(
        "directory/organizations/<uuid:organization_id>/services/new/",
        views.service_create,
        name="directory_service_create",
    ),
    path("directory/organizations/<uuid:organization_id>/staff/", views.staff_add, name="directory_staff_add"),
    path(
        "directory/organizations/<uuid:organization_id>/staff/<int:user_id>/remove/",
        views.staff_remove,
        name="directory_staff_remove",
    ),
    path("directory/services/<uuid:service_id>/", views.service_detail, name="directory_service"),
    path("directory/services/<uuid:service_id>/edit/", views.service_edit, name="directory_service_edit"),
]
