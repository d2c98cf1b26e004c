"""Headless Chromium for the browser tests and the UI screenshots, driven by Playwright.

Playwright cannot download its own browser here, so it drives the system's Chromium
(Debian's `chromium` package, `/usr/bin/chromium`, or `CRAFLOW_CHROMIUM`) by path, with a
fresh user-data folder and the background networking off (the machine has no internet).
"""

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1400, "height": 900}


def chromium_path() -> Path:
    """Where the Chromium binary is expected (`CRAFLOW_CHROMIUM` or Debian's path)."""
    return Path(os.environ.get("CRAFLOW_CHROMIUM", "/usr/bin/chromium"))


def browser_missing() -> str | None:
    """Why no browser test can run here, or None when Playwright and Chromium are present."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not chromium_path().exists():
        return (
            f"Chromium not found at {chromium_path()} "
            "(apt-get install -y chromium, or set CRAFLOW_CHROMIUM)"
        )
    return None


@contextmanager
def chromium_context(user_data_dir: Path | None = None) -> Iterator["BrowserContext"]:
    """A headless Chromium browser context with a fresh profile, closed afterwards."""
    from playwright.sync_api import sync_playwright

    profile = user_data_dir or Path(tempfile.mkdtemp(prefix="craflow-chromium-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(chromium_path()),
                args=list(CHROMIUM_ARGS),
                headless=True,
                viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        if user_data_dir is None:
            shutil.rmtree(profile, ignore_errors=True)
