"""Template tags for the task page's 传阅 / 已阅 / 催办 panel (flow/ops/_reading.html) and the 常用语 buttons.

The task page view stays as it is: the panel reads what it needs through flow.selectors_reading here.

    {% load flow_reading %}
    {% reading_panel as reading %}      needs `request`, `task`, `instance` in the context
    {% phrases as phrases %}            the viewer's 常用语 (or the defaults)
"""
from __future__ import annotations

from django import template

from .. import selectors_reading
from ..models import Task

register = template.Library()


@register.simple_tag(takes_context=True)
def reading_panel(context) -> dict:
    user = context["request"].user
    task, instance = context["task"], context["instance"]
    person = getattr(user, "person", None)
    mine = person is not None and task.assignee.person_id == person.pk
    status = selectors_reading.reading_status(instance)
    return {
        "read_form": mine and task.kind == Task.Kind.TOREAD and task.status == Task.Status.OPEN,
        "read_done": mine and task.kind == Task.Kind.TOREAD and task.status == Task.Status.DONE,
        "circulate": selectors_reading.can_circulate(user, task),
        "status": status if status["rows"] else None,
        "urge": selectors_reading.urge_targets(user, instance),
    }


@register.simple_tag(takes_context=True)
def phrases(context) -> list[dict]:
    return selectors_reading.phrases_for(context["request"].user)
