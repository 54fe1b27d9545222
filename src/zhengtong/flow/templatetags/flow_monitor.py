"""Template tags of the 流程监控 console: who sees the nav link and the task page's 挂起 / 恢复 / 终止 buttons.

    {% load flow_monitor %}
    {% monitor_link_visible as show %}          the user is a 单位系统管理员 (never the 三员, R7.2)
    {% may_control_instance instance as may %}  the drafter or an administrator of the instance's unit
"""
from __future__ import annotations

from django import template

from ..services.admin import can_control, own_unit_admin_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def monitor_link_visible(context) -> bool:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(user, "_flow_monitor_units", None)
    if cached is None:
        cached = own_unit_admin_ids(user)
        user._flow_monitor_units = cached
    return bool(cached)


@register.simple_tag(takes_context=True)
def may_control_instance(context, instance) -> bool:
    user = context.get("user")
    return bool(user is not None and user.is_authenticated and instance is not None and can_control(user, instance))
