"""Helpers shared by tests: browser screenshots, and answers of the local HTTP servers that stand in for peers."""
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


def answer_json(handler, status: int, data: bytes) -> None:
    """Answer a request of a `BaseHTTPRequestHandler` with `data` as JSON (a stand-in neighbour, a robot)."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
