from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "maeul.people"
    verbose_name = "People registry"
