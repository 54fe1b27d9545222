"""Template tags of the 公文交换 pages and the shell's 交换箱 link.

    {% load exchange_tags %}
    {% exchange_pending as pending %}   None for everyone but a 收发员; else the deliveries waiting for 签收
    {% exchange_statistics_visible as show %}   whether the user may see some unit's 收发统计 (the nav link)
    {{ delivery.kind|delivery_kind }}   主送 / 抄送
    {{ figures.minutes("median")|working_time }}   95.5 → 1小时36分 (working time; — when there is none)
    {{ figures.on_time_share|percent }}   0.875 → 87.5%
"""
from __future__ import annotations

from django import template

from .. import selectors, stats

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


@register.simple_tag(takes_context=True)
def exchange_statistics_visible(context) -> bool:
    """Quiet (stats.visible_scope records nothing): the shell asks on every page."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return False
    if not hasattr(user, "_exchange_statistics"):
        user._exchange_statistics = bool(stats.visible_scope(user))
    return user._exchange_statistics


@register.filter
def working_time(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    total = round(minutes)
    if total == 0:
        return "不足1分" if minutes > 0 else "0分"
    hours, rest = divmod(total, 60)
    if not hours:
        return f"{rest}分"
    return f"{hours}小时{rest}分" if rest else f"{hours}小时"


@register.filter
def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


@register.filter
def score_level(score: float | None) -> str:
    """The badge colour of a timeliness score: green from 90, yellow from 60, red below."""
    if score is None:
        return ""
    return "badge-green" if score >= 90 else "badge-yellow" if score >= 60 else "badge-red"
