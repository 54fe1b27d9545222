"""Write docs/configuration.md from the declared environment variables (settings/variables.py).

`--check` writes nothing and exits non-zero when the committed file differs (CI, a test).
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zhengtong.settings.variables import render_markdown


def docs_path() -> Path:
    return Path(settings.REPO_DIR) / "docs" / "configuration.md"


class Command(BaseCommand):
    help = "Generate docs/configuration.md from settings/variables.py (--check: fail when it differs)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file is stale")
        parser.add_argument("--output", default="", help="write here instead of docs/configuration.md")

    def handle(self, *args, check: bool = False, output: str = "", **options):
        path = Path(output) if output else docs_path()
        rendered = render_markdown()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current != rendered:
                raise CommandError(f"{path} is out of date: run `python manage.py config_docs` (or `make docs`)")
            self.stdout.write(f"{path} is up to date")
            return
        if current == rendered:
            self.stdout.write(f"{path} unchanged")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"wrote {path}"))
