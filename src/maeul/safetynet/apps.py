from django.apps import AppConfig


class SafetynetConfig(AppConfig):
    name = "maeul.safetynet"
    verbose_name = "Safety net (helpers and check-ins)"
