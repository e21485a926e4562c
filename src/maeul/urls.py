from __future__ import annotations

from django.urls import include, path

from maeul.accounts import views as accounts
from maeul.admin import admin_site
from maeul.api import urls as api_urls
from maeul.areas import views as areas
from maeul.audit import views as audit
from maeul.people import views as people
from maeul.sites import views as sites
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
