"""Factories for the web shell's tables."""
from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from zhengtong.org.tests.factories import UnitFactory
from zhengtong.web.models import Notice


class NoticeFactory(DjangoModelFactory):
    class Meta:
        model = Notice

    title = factory.Sequence(lambda n: f"关于做好第{n}项工作的通知")
    body = "请各单位按要求办理。"
    unit = factory.SubFactory(UnitFactory)
    published_at = factory.LazyFunction(timezone.now)
