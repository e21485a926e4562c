from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "maeul.watch"
    verbose_name = "Watch (detectors and alerts)"
