"""Account operations of the platform 系统管理员 (R7.2: accounts, organisation, operations).

Thin, audited services used by the sysadmin console: unlock a locked account (django-axes), deactivate
or reactivate an account, reset a password to a one-time temporary one. They live here until the
accounts app takes them over (accounts.services belongs to the security baseline).

三员分立: the 系统管理员 operates ordinary accounts only. Accounts holding any of the three
administrator roles, and the actor's own account, are refused for deactivation and password reset
(they are the 安全保密管理员's and the bootstrap command's business); unlocking is allowed for all.

Audit actions (security category): accounts.unlocked, accounts.deactivated, accounts.reactivated,
accounts.password_reset, and accounts.operation_refused for refusals.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhengtong.accounts.models import AdminRole, User
from zhengtong.accounts.permissions import admin_roles, require_admin_role
from zhengtong.audit.services import diff, security_event, snapshot
from zhengtong.core.errors import Forbidden, ServiceError

ACTIVE_FIELDS = ["is_active"]
PASSWORD_FIELDS = ["must_change_password", "password_changed_at"]


def _require_sysadmin(actor: User) -> None:
    require_admin_role(actor, AdminRole.SYSTEM)


def _refuse_protected(actor: User, user: User, action: str) -> None:
    if user.pk == actor.pk:
        message = "不能对本人账号执行此操作"
    elif admin_roles(user):
        message = "三员账号不能由系统管理员停用或重置密码（三员分立），请联系安全保密管理员"
    else:
        return
    security_event("accounts.operation_refused", user=actor, obj=user, outcome="denied",
                   detail={"operation": action})
    raise Forbidden("accounts.protected_account", message)


def locked_usernames() -> set[str]:
    """Usernames django-axes currently locks out (failures ≥ limit within the cool-off time)."""
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    cool_off = settings.AXES_COOLOFF_TIME
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - timedelta(hours=float(cool_off)))
    return set(attempts.exclude(username__isnull=True).values_list("username", flat=True))


def unlock_account(actor: User, user: User) -> int:
    """Clear the failed-login record of `user`, ending a lockout (R7.1). Returns the attempts cleared."""
    _require_sysadmin(actor)
    from axes.models import AccessAttempt

    with transaction.atomic():
        was_locked = user.username in locked_usernames()
        cleared, _ = AccessAttempt.objects.filter(username=user.username).delete()
        if not cleared:
            raise ServiceError("accounts.not_locked", f"账号 {user.username} 没有登录失败记录，无需解锁")
        security_event("accounts.unlocked", user=actor, obj=user,
                       changes={"locked": [was_locked, False]}, detail={"attempts_cleared": cleared})
    return cleared


def set_account_active(actor: User, user: User, active: bool) -> User:
    """Deactivate (停用) or reactivate (启用) an account. A deactivated account cannot log in or use tokens."""
    _require_sysadmin(actor)
    _refuse_protected(actor, user, "activate" if active else "deactivate")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            raise ServiceError("accounts.unchanged", f"账号 {user.username} 已经是{'启用' if active else '停用'}状态")
        before = snapshot(user, ACTIVE_FIELDS)
        user.is_active = active
        user.save(update_fields=["is_active"])
        security_event("accounts.reactivated" if active else "accounts.deactivated", user=actor, obj=user,
                       changes=diff(before, snapshot(user, ACTIVE_FIELDS)))
    return user


def reset_password(actor: User, user: User) -> str:
    """Set a generated temporary password that must be changed at the next login; returns it (shown once)."""
    _require_sysadmin(actor)
    _refuse_protected(actor, user, "reset_password")
    from zhengtong.accounts.services import generate_password

    temporary = generate_password(12)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(user, PASSWORD_FIELDS)
        user.set_password(temporary)
        user.must_change_password = True
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "must_change_password", "password_changed_at"])
        security_event("accounts.password_reset", user=actor, obj=user,
                       changes=diff(before, snapshot(user, PASSWORD_FIELDS)))
    return temporary
