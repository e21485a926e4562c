from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "maeul.sites"
    label = "maeul_sites"
    verbose_name = "Programme sites"
