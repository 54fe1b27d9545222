"""Helpers shared by the browser tests."""
from __future__ import annotations

import os
from pathlib import Path


def screenshot(target, name: str, *, full_page: bool = True) -> None:
    """Save `name`.png when SHOTS_DIR is set: `make screenshots` refreshes docs/screenshots/ this way.

    Name shots `<screen>-<desktop|phone>[-detail]` so the folder reads as a catalogue of the pages.
    """
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)
