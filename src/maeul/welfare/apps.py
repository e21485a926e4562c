from django.apps import AppConfig


class WelfareConfig(AppConfig):
    name = "maeul.welfare"
    verbose_name = "Welfare cases and referrals"
