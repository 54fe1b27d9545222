"""Who is acting, from where: carried through a request so services can audit without plumbing.

The middleware fills a context variable per request; management commands and tasks may set it with
`acting_as()`. Services read `current()`.
"""
from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from dataclasses import dataclass, replace

from django.conf import settings


@dataclass(frozen=True)
class ActorContext:
    user_id: int | None = None
    username: str = ""
    ip: str = ""
    user_agent: str = ""
    channel: str = "system"  # web | api | command | task | system


_NOBODY = ActorContext()
_current: contextvars.ContextVar[ActorContext | None] = contextvars.ContextVar("zhengtong_actor", default=None)


def current() -> ActorContext:
    return _current.get() or _NOBODY


@contextlib.contextmanager
def acting_as(**fields):
    token = _current.set(replace(current(), **fields))
    try:
        yield current()
    finally:
        _current.reset(token)


def client_ip(request, *args, **kwargs) -> str:
    """The client's address; X-Forwarded-For is believed only from a trusted reverse proxy."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote in settings.TRUSTED_PROXY_IPS:
        candidate = forwarded.split(",")[0].strip()
        try:
            ipaddress.ip_address(candidate)
            return candidate
        except ValueError:
            pass
    return remote


def from_request(request, channel: str = "web") -> ActorContext:
    user = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    return ActorContext(
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        channel=channel,
    )


def set_for_request(request, channel: str = "web"):
    return _current.set(from_request(request, channel))


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        channel = "api" if request.path.startswith("/api/") else "web"
        token = set_for_request(request, channel)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
