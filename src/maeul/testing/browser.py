"""Headless Chromium for browser tests: Debian's chromium driven by Playwright (a pytest plugin, loaded by
the root conftest), and one-time codes for the second factor."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (scripts/ensure-debian-packages.sh)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the ORM calls in this test thread are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


def next_code(secret: str, official: Any) -> str:
    """A code for a step not used yet (each step is accepted once; the server allows one step of drift)."""
    from maeul.accounts.models import SecondFactor

    totp = pyotp.TOTP(secret)
    factor = SecondFactor.objects.get(user=official)
    while True:
        now_step = int(time.time()) // totp.interval
        step = max(now_step, factor.last_used_step + 1)
        if step <= now_step + 1:
            return totp.generate_otp(step)
        time.sleep(1)
