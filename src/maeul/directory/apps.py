from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "maeul.directory"
    verbose_name = "Resource directory (Open Referral HSDS)"
