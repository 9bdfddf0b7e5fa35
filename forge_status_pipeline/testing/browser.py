"""Settings for starting Debian's Chromium headless, shared by the page tests and benchmark."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Running as root needs --no-sandbox. The other flags stop Chromium's own background requests
# (updates, sync, field trials), since the page must be measured and tested with no network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
