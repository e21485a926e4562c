"""The `maeul` console script: every Maeul command is a Django management command run through here
(`maeul run`, `maeul worker`, `maeul areas import FILE`, `maeul rotate-key`, `maeul migrate`, ...)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maeul.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["maeul", *sys.argv[1:]])


if __name__ == "__main__":
    main()
