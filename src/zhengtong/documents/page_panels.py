"""Panels other apps add to the document page, so the documents app imports none of them (公文交换's 发送情况 is one:
exchange/apps.py registers it). Like flow.business for the flow app: the other app plugs in at `AppConfig.ready`.

A provider is `(user, document) -> DocumentPanel | None`; it decides who sees it (None: nothing to show this user)
and must not raise for a reader of the document. The page includes `template` with `panel` = `context` and links
`stylesheet` (a static path) in its head.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocumentPanel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    stylesheet: str = ""


Provider = Callable[[Any, Any], DocumentPanel | None]
_PROVIDERS: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    _PROVIDERS[key] = provider


def panels_for(user, document) -> list[DocumentPanel]:
    return [panel for provider in _PROVIDERS.values() if (panel := provider(user, document)) is not None]
