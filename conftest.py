"""Fixtures shared by every test: factories live in each app's tests/factories.py."""
from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the same
# test are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
DEMO_PASSWORD = "Demo@2026"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian chromium not found at {CHROMIUM}: run .ci/run or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def login(page, live_server):
    """Log `user` in through the real login form; returns the page on the workspace."""

    def _login(username: str, password: str = DEMO_PASSWORD, target=page):
        target.goto(f"{live_server.url}/accounts/login/")
        target.fill("input[name=username]", username)
        target.fill("input[name=password]", password)
        target.click("button[type=submit]")
        target.wait_for_load_state("networkidle")
        return target

    return _login


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The working-day calendar caches per process; a test's rolled-back edits must not leak into the next."""
    from zhengtong.core import calendar

    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and lockout counters live in the cache: one test's attempts must not throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _builtin_rows_in_transactional_tests(request):
    """A transactional (browser, thread) test ends with a flush that also empties the rows migrations created, and
    the tests that run after it in the same worker (xdist does not keep pytest-django's transactional-last order)
    would find no built-in duties: every database test puts them back when they are missing (one query when
    they are there; inside an ordinary test's transaction the rows go with its rollback and come back next time)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        yield
        return
    import importlib

    from django.apps import apps

    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    request.getfixturevalue("transactional_db" if transactional or "transactional_db" in request.fixturenames
                            else "db")
    from zhengtong.org.models import Duty

    if not Duty.objects.filter(builtin=True).exists():
        importlib.import_module("zhengtong.org.migrations.0002_builtin_duties").create(apps, None)
    yield
