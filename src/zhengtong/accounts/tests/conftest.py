"""Helpers for the accounts tests: a clean throttle cache, TOTP codes, logging in through the form."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengtong.accounts.tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the per-address throttles live in the cache
    yield
    cache.clear()


def current_code(device: TOTPDevice) -> str:
    """The code the authenticator app shows now. The device forgets which time step was used last
    (a code is accepted once per step), so a test may log in right after enrolling."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, drift=0)
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrolled_device(user) -> TOTPDevice:
    from zhengtong.accounts import services

    enrollment = services.start_totp_enrollment(user)
    return services.confirm_totp_enrollment(user, current_code(enrollment.device))


def post_login(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)
