"""Writing notices (通知公告)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.accounts.permissions import is_any_admin, require_authenticated
from zhengtong.audit.services import record
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org.models import Duty, Unit

from .models import Notice

PUBLISHING_DUTIES = {Duty.PRINCIPAL, Duty.DEPUTY, Duty.DEPT_HEAD, Duty.DOC_CLERK, Duty.UNIT_ADMIN}


def publish_notice(user, *, unit: Unit, title: str, body: str, platform_wide: bool = False,
                   pinned: bool = False) -> Notice:
    require_authenticated(user)
    person = getattr(user, "person", None)
    allowed = person is not None and not is_any_admin(user) and person.identities.filter(
        unit=unit, active=True, duty__code__in=PUBLISHING_DUTIES).exists()
    if not allowed:
        raise Forbidden("notice.forbidden", "只有本单位负责人、处室负责人或收发员可以发布通知公告")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ServiceError("notice.empty", "标题和内容不能为空")
    with transaction.atomic():
        notice = Notice.objects.create(title=title[:200], body=body, unit=unit, platform_wide=platform_wide,
                                       pinned=pinned, author=user, published_at=timezone.now())
        record("notice.publish", obj=notice, unit=unit, detail={"platform_wide": platform_wide})
    return notice
