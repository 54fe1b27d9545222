"""Who may do what. Every service calls one of these first."""
from __future__ import annotations

from zhengtong.core.errors import Forbidden, NotAuthenticated

from .models import AdminRole


def admin_roles(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_admin_roles_cache", None)
    if cached is None:
        cached = set(user.admin_roles.values_list("role", flat=True))
        user._admin_roles_cache = cached
    return cached


def has_admin_role(user, role: str) -> bool:
    return role in admin_roles(user)


def is_any_admin(user) -> bool:
    """三员 accounts do not handle business documents (R7.2)."""
    return bool(admin_roles(user))


def require_authenticated(user) -> None:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated("auth.required", "请先登录")


def require_admin_role(user, role: str) -> None:
    require_authenticated(user)
    if not has_admin_role(user, role):
        from zhengtong.audit.services import security_event

        security_event("permission.denied", user=user, outcome="denied", detail={"needs": role})
        raise Forbidden("permission.denied", f"需要“{AdminRole(role).label}”权限")


def administered_unit_ids(user) -> set[int] | None:
    """Units whose structure `user` may manage: None = all (platform 系统管理员), else a set of unit ids.

    A unit's 单位系统管理员 (duty unit_admin) manages that unit only.
    """
    if has_admin_role(user, AdminRole.SYSTEM):
        return None
    person = getattr(user, "person", None)
    if person is None:
        return set()
    from zhengtong.org.models import Duty

    return set(person.identities.filter(active=True, duty__code=Duty.UNIT_ADMIN).values_list("unit_id", flat=True))


def require_unit_admin(user, unit_id: int) -> None:
    require_authenticated(user)
    allowed = administered_unit_ids(user)
    if allowed is None or unit_id in allowed:
        return
    from zhengtong.audit.services import security_event

    security_event("permission.denied", user=user, outcome="denied", object_type="org.unit", object_id=unit_id,
                   detail={"needs": "unit_admin"})
    raise Forbidden("permission.denied", "只能管理本单位的组织架构")
