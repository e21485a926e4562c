from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "maeul.web"
    verbose_name = "Web interface"
