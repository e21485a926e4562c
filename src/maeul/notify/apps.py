from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "maeul.notify"
    verbose_name = "Notifications"
