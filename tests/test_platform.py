"""Platform-wide properties: settings, security headers, API error shape, no internet assets."""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def production_env(**overrides) -> dict[str, str]:
    # the browser fixtures allow async-unsafe ORM calls; a deployment never does
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "zhengtong.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
        "ALLOWED_HOSTS": "oa.example.gov.cn",
    })
    env.update(overrides)
    return env


def test_production_settings_pass_check_deploy():
    env = production_env()
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("redis_url", "backend", "huey"), [
    ("", "FileBasedCache", "SqliteHuey"),
    ("redis://127.0.0.1:6379/0", "RedisCache", "RedisHuey"),
])
def test_production_workers_share_cache_and_queue(tmp_path, redis_url, backend, huey):
    """Rate limits count in the cache, so gunicorn's workers must share it: Redis when set, else files."""
    env = production_env(REDIS_URL=redis_url, DATA_DIR=str(tmp_path))
    code = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'], s.HUEY['huey_class'])"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert backend in result.stdout and huey in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_settings_refuse_to_start_without_secret_or_postgres(missing):
    env = production_env(**{missing: ""})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.django_db
def test_r7_1_security_headers_on_pages(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_api_errors_are_code_and_message(client):
    unauthenticated = client.get("/api/v1/me")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "auth.required"
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"code", "message"}


@pytest.mark.django_db
def test_openapi_schema_holds_the_public_contract(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path, method in [("/api/v1/auth/token", "post"), ("/api/v1/me", "get"), ("/api/v1/org/people", "get"),
                         ("/api/v1/org/units", "get"), ("/api/v1/calendar/add-working-days", "get"),
                         ("/api/v1/process-definitions", "post")]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing from the OpenAPI schema"


@pytest.mark.django_db
def test_r7_2_django_admin_is_not_served_outside_development(client):
    assert client.get("/django-admin/").status_code == 404


INTERNET = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import\s+url\(\s*["']?https?://|url\(\s*["']?https?://""")


def test_no_asset_loads_from_the_internet():
    """Government intranets have no internet: every script, style, font and image is served locally."""
    offenders = []
    for path in (REPO / "src").rglob("*"):
        if path.suffix in {".html", ".css", ".js"} and "vendor" not in path.parts:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if INTERNET.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/docs"])
def test_rendered_pages_reference_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', response.content.decode())
    assert external == []


def test_configuration_docs_match_the_declared_variables():
    from zhengtong.settings.variables import render_markdown

    assert (REPO / "docs" / "configuration.md").read_text(encoding="utf-8") == render_markdown(), \
        "docs/configuration.md is stale: run `make docs`"
