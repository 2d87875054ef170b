"""A headless Chromium driven through Selenium, or a clear reason why there is none."""

from __future__ import annotations

import shutil
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "apt-get install -y chromium chromium-driver (as .ci/run does)"


def why_no_browser() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not any(shutil.which(name) for name in BROWSERS):
        return f"no Chromium on PATH ({', '.join(BROWSERS)}): {INSTALL_HINT}"
    if not shutil.which("chromedriver"):
        return f"no chromedriver on PATH: {INSTALL_HINT}"
    return None


def headless_chromium(width: int = 1600, height: int = 1200) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    binary = next(shutil.which(name) for name in BROWSERS if shutil.which(name))
    options.binary_location = binary or ""
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",  # no update checks or other calls home
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
