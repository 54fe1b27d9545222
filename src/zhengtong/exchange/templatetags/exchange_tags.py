"""Template tags of the 公文交换 pages and the shell's 交换箱 link.

    {% load exchange_tags %}
    {% exchange_pending as pending %}   None for everyone but a 收发员; else the deliveries waiting for 签收
    {{ delivery.kind|delivery_kind }}   主送 / 抄送
"""
from __future__ import annotations

from django import template

from .. import selectors

register = template.Library()
KINDS = {"main": "主送", "copy": "抄送"}


@register.simple_tag(takes_context=True)
def exchange_pending(context) -> int | None:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, "_exchange_pending"):  # once per request, however often the shell asks
        user._exchange_pending = selectors.pending_count(user)
    return user._exchange_pending


@register.filter
def delivery_kind(kind: str) -> str:
    return KINDS.get(kind, kind)
