"""What every page's shell needs: the signed-in person, their identities, their admin consoles."""
from __future__ import annotations

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import admin_roles, administered_unit_ids


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    person = getattr(user, "person", None)
    roles = admin_roles(user)
    consoles = [(role, AdminRole(role).label) for role in (AdminRole.SYSTEM, AdminRole.SECURITY, AdminRole.AUDITOR)
                if role in roles]
    return {
        "shell_person": person,
        "shell_consoles": consoles,
        "shell_is_admin": bool(roles),
        "shell_flow_admin": administered_unit_ids(user) != set(),  # 流程管理: sysadmin or a unit admin
    }
