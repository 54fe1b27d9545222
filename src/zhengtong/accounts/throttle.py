"""Address-level login throttling (R7.1), on top of axes' per-account lockout.

Axes locks an account after 5 failures; an attacker who tries one password against many accounts
never trips it. These fixed one-minute windows in the cache limit how often one address may ask for
an API token (every request counts) and how many failed web logins it may make.
With Redis configured (REDIS_URL) the counters are shared by every web process.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from zhengtong.core.context import client_ip

WINDOW_SECONDS = 60


def _key(scope: str, ip: str) -> str:
    return f"zt:throttle:{scope}:{ip}:{int(time.time() // WINDOW_SECONDS)}"


def _limit(scope: str) -> int:
    return {"token": getattr(settings, "API_TOKEN_RATE_PER_MINUTE", 30),
            "web_failures": getattr(settings, "LOGIN_FAILURES_PER_IP_PER_MINUTE", 30)}[scope]


def hit(request, scope: str) -> bool:
    """Count one request; False when the address is over its limit for this minute."""
    key = _key(scope, client_ip(request))
    cache.add(key, 0, WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS * 2)
        count = 1
    return count <= _limit(scope)


def over_limit(request, scope: str) -> bool:
    """Whether the address is already over its limit, without counting."""
    return (cache.get(_key(scope, client_ip(request))) or 0) >= _limit(scope)
