"""What a flow instance is about: the business app behind a business type (公文 for 发文/收文/签报) plugs in here.

The flow app knows nothing of documents; an app registers `Hooks` for its business types in `AppConfig.ready`:

- `before_submit(actor, instance, task, route, opinion, editable)`: inside the submit's transaction with the instance row
  locked, before the engine moves; raise ServiceError to refuse (e.g. 编号 before a number was taken);
- `after_submit(actor, instance, task, route, opinion, new_tasks, editable)`: same transaction, after the engine moved and
  the instance's status is saved (e.g. record the 签发人, close the document when the instance completed);
  (`editable`: the node's `zt:form editable` names, read from the engine state the submit has loaded anyway)
- `after_terminate(actor, instance)`: same transaction as 终止 (e.g. release an unused number as 空号);
- `panel(user, task) -> (template, context) | None`: what the task page shows about the business object and the
  step's own actions (取号, 用印, 核发…).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hooks:
    before_submit: Callable[..., None] | None = None
    after_submit: Callable[..., None] | None = None
    after_terminate: Callable[..., None] | None = None
    panel: Callable[..., tuple[str, dict[str, Any]] | None] | None = None


_HOOKS: dict[str, Hooks] = {}


def register(business_type: str, hooks: Hooks) -> None:
    _HOOKS[business_type] = hooks


def hooks_for(business_type: str) -> Hooks:
    return _HOOKS.get(business_type) or Hooks()
