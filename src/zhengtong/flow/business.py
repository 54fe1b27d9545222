"""What a flow instance is about: the business app behind a business type (公文 for 发文/收文/签报) plugs in here.

The flow app knows nothing of documents; an app registers `Hooks` for its business types in `AppConfig.ready`:

- `before_submit(actor, instance, task, route, opinion, editable)`: inside the submit's transaction with the instance row
  locked, before the engine moves; raise ServiceError to refuse (e.g. 编号 before a number was taken);
- `after_submit(actor, instance, task, route, opinion, new_tasks, editable)`: same transaction, after the engine moved and
  the instance's status is saved (e.g. record the 签发人, close the document when the instance completed);
  (`editable`: the node's `zt:form editable` names, read from the engine state the submit has loaded anyway)
- `after_terminate(actor, instance)`: same transaction as 终止 (e.g. release an unused number as 空号);
- `panel(user, task) -> (template, context) | None`: what the task page shows about the business object and the
  step's own actions (取号, 用印, 核发…);
- `start_url(user) -> str`: where this business type is started in its own app, because an instance without its
  business object means nothing (发文 and 签报 start at 拟稿, 收文 at the 收发员's 登记); "" when this user cannot
  start it there. The 发起 page links there and the flow's own 发起 (page and API) refuses such a type
  (`refuse_bare_start`); the app itself still calls `services.start_process`. `start_note`: how it is started, one
  line for the page and the refusal. Types without a `start_url` (a plain approval flow) start bare as before.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zhengtong.core.errors import ServiceError

from .models import BusinessType


@dataclass(frozen=True)
class Hooks:
    before_submit: Callable[..., None] | None = None
    after_submit: Callable[..., None] | None = None
    after_terminate: Callable[..., None] | None = None
    panel: Callable[..., tuple[str, dict[str, Any]] | None] | None = None
    start_url: Callable[[Any], str] | None = None
    start_note: str = ""


_HOOKS: dict[str, Hooks] = {}


def register(business_type: str, hooks: Hooks) -> None:
    _HOOKS[business_type] = hooks


def hooks_for(business_type: str) -> Hooks:
    return _HOOKS.get(business_type) or Hooks()


def starts_in_business_app(business_type: str) -> bool:
    return hooks_for(business_type).start_url is not None


def start_url(business_type: str, user) -> str:
    """Where `user` starts `business_type` ("" for a bare start here, or when they cannot start it at all)."""
    hooks = hooks_for(business_type)
    return hooks.start_url(user) if hooks.start_url is not None else ""


def refuse_bare_start(business_type: str) -> None:
    """The flow's own 发起 (page and API) of a type its business app starts: refused, saying where it starts."""
    if starts_in_business_app(business_type):
        label = BusinessType(business_type).label if business_type in BusinessType.values else business_type
        note = hooks_for(business_type).start_note
        raise ServiceError("flow.start_in_business_app",
                           f"“{label}”不能单独发起流程" + (f"：{note}" if note else ""))
