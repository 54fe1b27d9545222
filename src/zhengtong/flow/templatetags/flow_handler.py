"""The task page's operations panel for the holder (flow/ops/_handler.html): `{% handler_panel as ops %}` needs
`request` and `task` in the context; the rules are flow.selectors_ops's."""
from __future__ import annotations

from django import template

from .. import selectors_ops

register = template.Library()


@register.simple_tag(takes_context=True)
def handler_panel(context) -> dict | None:
    return selectors_ops.handler_operations(context["request"].user, context["task"])
