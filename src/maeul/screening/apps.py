from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "maeul.screening"
    verbose_name = "Welfare blind-spot screening"
