from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from zhengtong.accounts import models
from zhengtong.core.crypto import token_digest

PASSWORD = "Demo@2026"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    password_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminRoleGrantFactory(DjangoModelFactory):
    class Meta:
        model = models.AdminRoleGrant

    user = factory.SubFactory(UserFactory)
    role = models.AdminRole.SYSTEM


class SecurityPolicyFactory(DjangoModelFactory):
    """The single policy row (pk=1)."""

    class Meta:
        model = models.SecurityPolicy
        django_get_or_create = ("id",)

    id = 1


class ApiTokenFactory(DjangoModelFactory):
    """A token row for the raw token `f"test-token-{n:08d}"` (only its digest is stored)."""

    class Meta:
        model = models.ApiToken

    user = factory.SubFactory(UserFactory)
    digest = factory.Sequence(lambda n: token_digest(f"test-token-{n:08d}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=12))
