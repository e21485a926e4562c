from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.welfare import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/handover/", views.handover, name="case_handover"),
    path("cases/services/", views.service_picker, name="case_service_picker"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/assess/", views.case_assess, name="case_assess"),
    path("cases/<int:case_id>/plan/", views.case_plan, name="case_plan"),
    path("cases/<int:case_id>/manage/", views.case_manage, name="case_manage"),
    path("cases/<int:case_id>/close/", views.case_close, name="case_close"),
    path("cases/<int:case_id>/refer/", views.case_refer, name="case_refer"),
    path("cases/<int:case_id>/follow-ups/", views.case_follow_up, name="case_follow_up"),
    path("cases/<int:case_id>/follow-ups/<int:follow_up_id>/done/", views.follow_up_done, name="follow_up_done"),
    path("households/<int:household_id>/cases/", views.household_cases, name="household_cases"),
    path("referrals/", views.referral_list, name="referral_list"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:referral_id>/status/", views.referral_transition, name="referral_transition"),
    path("verification/", views.verification_list, name="verification_list"),
    path("verification/<int:task_id>/", views.verification_detail, name="verification_detail"),
    path("verification/<int:task_id>/resolve/", views.verification_resolve, name="verification_resolve"),
]
