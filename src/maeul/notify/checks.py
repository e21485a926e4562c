"""System check: a channel listed in MAEUL_NOTIFY_CHANNELS but not usable is reported when Maeul starts
(``maeul run``, ``migrate``, ``check``), not first discovered when an alert cannot go out."""

from __future__ import annotations

from typing import Any

from django.core import checks

from maeul.notify.channels import configuration_problems


@checks.register(checks.Tags.compatibility)
def notification_channels(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(str(problem), hint="See README, Configuration.", id="maeul_notify.E001")
        for problem in configuration_problems()
    ]
