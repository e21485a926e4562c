from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "maeul.events"
    verbose_name = "Domain events"
