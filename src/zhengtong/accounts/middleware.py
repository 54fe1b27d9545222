"""Session policy for the web (R7.1): idle timeout, forced 2FA enrollment, forced password change.

Runs after authentication on every web request; the API (/api/, bearer tokens with their own
lifetime) and static files are not sessions and pass untouched.

- Idle timeout: the session ends after `policy.idle_timeout_minutes` (else IDLE_TIMEOUT_MINUTES,
  default 30) without a request, and the browser lands on the login page with a message. Requests
  sent with the header `X-Background: 1` (polling) do not count as activity.
- Forced pages: when the login found that a second factor is required but not enrolled, only the
  enrollment page (and logout) can be opened until it is done; then, while the password is expired
  or must be changed, only the password page.
- A superuser session outside development is ended (R7.2).
"""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from zhengtong.audit.services import security_event

from . import services
from .models import SecurityPolicy

EXEMPT_PREFIXES = ("/api/", "/healthz", "/favicon", "/federation/")  # /federation/: signed by peers
ACTIVITY_GRANULARITY_SECONDS = 15


def _redirect(request, url: str):
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._enforce(request)
        return response if response is not None else self.get_response(request)

    def _enforce(self, request):
        path = request.path
        if path.startswith(EXEMPT_PREFIXES) or path.startswith(settings.STATIC_URL):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        login_url = reverse("accounts:login")
        if user.is_superuser and not settings.ALLOW_SUPERUSER:
            security_event("auth.superuser_refused", user=user, obj=user, outcome="denied",
                           detail={"channel": "session"})
            logout(request)
            return _redirect(request, f"{login_url}?reason=superuser")

        policy = SecurityPolicy.current()
        now = time.time()
        last_seen = request.session.get(services.SESSION_LAST_SEEN)
        idle_seconds = services.idle_timeout_minutes(policy) * 60
        if last_seen is not None and now - last_seen > idle_seconds:
            security_event("auth.idle_timeout", user=user, obj=user,
                           detail={"idle_seconds": int(now - last_seen), "limit_seconds": idle_seconds})
            logout(request)
            return _redirect(request, f"{login_url}?reason=idle")
        background = request.headers.get("X-Background") == "1"
        if not background and (last_seen is None or now - last_seen >= ACTIVITY_GRANULARITY_SECONDS):
            request.session[services.SESSION_LAST_SEEN] = now

        logout_url = reverse("accounts:logout")
        enroll_url = reverse("accounts:otp_enroll")
        if request.session.get(services.SESSION_ENROLL_REQUIRED):
            if services.confirmed_totp(user) is not None:
                request.session.pop(services.SESSION_ENROLL_REQUIRED, None)
            elif path in (enroll_url, logout_url):
                return None  # enrollment comes before anything else, the password change too
            else:
                messages.warning(request, "按安全策略，您的账号须使用双因素认证：请先绑定动态口令")
                return _redirect(request, enroll_url)
        password_url = reverse("accounts:password_change")
        if path not in (password_url, logout_url) and services.password_change_due(user, policy):
            messages.warning(request, "请先修改密码后再继续使用")
            return _redirect(request, password_url)
        return None
