from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "maeul.programme"
    verbose_name = "The ministry's programme (calls, evaluation, grants, results)"
