from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "maeul.notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from maeul.notify import checks  # noqa: F401 — registers the channel configuration check
