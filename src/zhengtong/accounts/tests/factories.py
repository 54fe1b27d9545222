from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from zhengtong.accounts import models

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
