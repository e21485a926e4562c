from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "maeul.audit"
    verbose_name = "Access and change records"
