from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from maeul.screening import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("screening/", views.outreach_list, name="screening_list"),
    path("screening/<int:candidate_id>/", views.candidate_detail, name="screening_candidate"),
    path("screening/<int:candidate_id>/assign/", views.candidate_assign, name="screening_assign"),
    path("screening/<int:candidate_id>/result/", views.candidate_result, name="screening_result"),
    path("screening/<int:candidate_id>/link/", views.candidate_link, name="screening_link"),
    path("screening/<int:candidate_id>/review/", views.candidate_review, name="screening_review"),
    path("screening/reviews/", views.review_list, name="screening_reviews"),
    path("screening/reviews/<int:review_id>/answer/", views.review_answer, name="screening_review_answer"),
    path("screening/runs/", views.run_list, name="screening_runs"),
    path("screening/runs/<int:run_id>/", views.run_detail, name="screening_run"),
    path("screening/models/", views.model_list, name="screening_models"),
    path("screening/models/<int:version_id>/", views.model_detail, name="screening_model"),
    path("screening/models/<int:version_id>/decide/", views.model_decide, name="screening_model_decide"),
    path("screening/national/", views.national_list, name="screening_national"),
    path("screening/national/<str:round_code>/results.csv", views.national_results, name="screening_national_results"),
]
