from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "maeul.safety"
    verbose_name = "Safety (Type 1)"
