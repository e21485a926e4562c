from __future__ import annotations

from django.urls import include, path

from maeul.accounts import views as accounts
from maeul.admin import admin_site
from maeul.api import urls as api_urls
from maeul.areas import views as areas
from maeul.audit import views as audit
from maeul.people import views as people
from maeul.safety import views as safety
from maeul.sites import views as sites
from maeul.watch import views as watch
from maeul.web import views as web

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", web.healthz, name="healthz"),
    path("i18n/setlang/", web.language_switch, name="set_language"),
    path("account/login/", accounts.login_view, name="login"),
    path("account/two-factor/", accounts.two_factor_view, name="two_factor"),
    path("account/logout/", accounts.logout_view, name="logout"),
    path("account/", accounts.account_view, name="account"),
    path("account/password/", accounts.password_view, name="password"),
    path("account/tokens/<int:token_id>/revoke/", accounts.revoke_token_view, name="revoke_token"),
    path("areas/suggest/", areas.area_suggestion, name="area_suggestion"),
    path("areas/<str:code>/", areas.area_detail, name="area_detail"),
    path("areas/<str:code>/safety/", safety.area_safety, name="area_safety"),
    path("report/", safety.report_form, name="report_form"),
    path("report/nearby/", safety.report_nearby, name="report_nearby"),
    path("report/mine/", safety.my_reports, name="my_reports"),
    path("report/follow/<int:report_id>/", safety.report_follow, name="report_follow"),
    path("report/track/<str:token>/", safety.report_track, name="report_track"),
    path("hazards/", safety.report_list, name="report_list"),
    path("hazards/map/", safety.report_map, name="report_map"),
    path("hazards/map.json", safety.report_map_data, name="report_map_data"),
    path("hazards/photos/<int:photo_id>/", safety.photo, name="safety_photo"),
    path("hazards/<int:report_id>/", safety.report_detail, name="report_detail"),
    path("hazards/<int:report_id>/contact/", safety.report_contact, name="report_contact"),
    path("hazards/<int:report_id>/triage/", safety.report_triage, name="report_triage"),
    path("hazards/<int:report_id>/category/", safety.report_recategorise, name="report_recategorise"),
    path("hazards/<int:report_id>/status/", safety.report_status, name="report_status"),
    path("safety/body/", safety.body, name="safety_body"),
    path("safety/categories/", safety.catalogue_page, name="safety_catalogue"),
    path("safety/tasks/", safety.task_list, name="task_list"),
    path("safety/tasks/new/", safety.task_create, name="task_create"),
    path("safety/tasks/<int:task_id>/", safety.task_detail, name="task_detail"),
    path("safety/plan/<str:area_code>/<int:year>/", safety.plan, name="safety_plan"),
    path("households/", people.household_list, name="household_list"),
    path("households/new/", people.household_create, name="household_create"),
    path("households/import/", people.household_import, name="household_import"),
    path("households/export/", people.household_export, name="household_export"),
    path("households/<int:household_id>/", people.household_detail, name="household_detail"),
    path("households/<int:household_id>/edit/", people.household_edit, name="household_edit"),
    path("households/<int:household_id>/persons/new/", people.person_edit, name="person_add"),
    path("households/<int:household_id>/persons/<int:person_id>/", people.person_edit, name="person_edit"),
    path("households/<int:household_id>/status/", people.household_status, name="household_status"),
    path("households/<int:household_id>/contacts/", people.household_contact, name="household_contact"),
    path("households/<int:household_id>/consents/", people.household_consent, name="household_consent"),
    path(
        "households/<int:household_id>/consents/<int:consent_id>/withdraw/",
        people.consent_withdraw,
        name="consent_withdraw",
    ),
    path("households/<int:household_id>/activity/", watch.household_activity, name="household_activity"),
    path("alerts/", include("maeul.watch.urls")),
    path("", include("maeul.sensing.urls")),
    path("", include("maeul.directory.urls")),
    path("", include("maeul.welfare.urls")),
    path("", include("maeul.safetynet.urls")),
    path("", include("maeul.safetynet.summary_urls")),
    path("", include("maeul.safetynet.phone_urls")),
    path("", include("maeul.programme.urls")),
    path("", include("maeul.disaster.urls")),
    path("", include("maeul.screening.urls")),
    path("site/settings/", sites.site_settings, name="site_settings"),
    path("site/accounts/", accounts.members_view, name="members"),
    path("site/accounts/<int:user_id>/close/", accounts.close_member_view, name="close_member"),
    path("sites/", sites.site_list, name="site_list"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/export/", audit.audit_export, name="audit_export"),
    path("open311/", include("maeul.safety.open311_urls")),
    path("api/", api_urls()),
    path("admin/", include(admin_site.urls[:2], namespace=admin_site.urls[2])),
]
