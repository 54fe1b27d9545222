"""API authentication: `Authorization: Bearer <token>` or the browser session (with CSRF)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from zhengtong.core import context
from zhengtong.core.crypto import token_digest

from .models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        found = (ApiToken.objects.select_related("user")
                 .filter(digest=token_digest(token), revoked_at__isnull=True, expires_at__gt=timezone.now())
                 .first())
        if found is None or not found.user.is_active:
            return None
        if found.user.is_superuser and not settings.ALLOW_SUPERUSER:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        context.set_for_request(request, channel="api")
        return found.user


class Session(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            context.set_for_request(request, channel="api")
        return user


API_AUTH = [BearerToken(), Session()]
