"""docs/configuration.md is generated from settings/variables.py and cannot drift (issue 2 §1)."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from zhengtong.core.management.commands.config_docs import docs_path
from zhengtong.settings.variables import VARIABLES, render_markdown


def test_committed_configuration_md_equals_the_rendered_declarations():
    assert docs_path().read_text(encoding="utf-8") == render_markdown(), (
        "docs/configuration.md is stale: run `python manage.py config_docs`")


def test_every_declared_variable_is_documented():
    text = docs_path().read_text(encoding="utf-8")
    for variable in VARIABLES:
        assert f"| `{variable.name}` |" in text


def test_check_passes_on_the_committed_file():
    call_command("config_docs", "--check")


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path):
    target = tmp_path / "configuration.md"
    target.write_text("# stale\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("config_docs", "--check", "--output", str(target))
    call_command("config_docs", "--output", str(target))
    assert target.read_text(encoding="utf-8") == render_markdown()
    call_command("config_docs", "--check", "--output", str(target))


def test_check_fails_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError):
        call_command("config_docs", "--check", "--output", str(tmp_path / "absent.md"))
