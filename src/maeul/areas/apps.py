from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "maeul.areas"
    verbose_name = "Administrative areas"
