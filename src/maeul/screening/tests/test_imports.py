"""The web layer loads screening without its batch libraries: every web process and worker imports the URLconf, the
views, the API routers and the template tags, and Arrow, Ibis/DuckDB and scikit-learn (with SciPy and pandas) once
added about 200 MB to each of them. Only a screening run or a model's training imports them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BATCH_LIBRARIES = ("pyarrow", "pandas", "sklearn", "scipy", "ibis", "duckdb", "joblib")
BATCH_MODULES = ("maeul.screening.pipeline", "maeul.screening.batch", "maeul.screening.model", "maeul.screening.synth")


def test_the_web_layer_starts_without_the_batch_libraries(tmp_path: Path) -> None:
    code = (
        "import importlib, sys, django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.template.backends.django import get_installed_libraries\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import maeul.api, maeul.urls, maeul.screening.views\n"
        "for library in get_installed_libraries().values():\n"
        "    importlib.import_module(library)\n"
        "call_command('check')\n"
        f"print(sorted(m for m in {BATCH_LIBRARIES + BATCH_MODULES!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "maeul.testing.settings", "MAEUL_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
