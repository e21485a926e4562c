from django.apps import AppConfig


class SensingConfig(AppConfig):
    name = "maeul.sensing"
    verbose_name = "Sensing (devices, ingestion and readings)"
