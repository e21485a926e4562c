from django.apps import AppConfig


class DisasterConfig(AppConfig):
    name = "maeul.disaster"
    verbose_name = "Disaster initial response"
