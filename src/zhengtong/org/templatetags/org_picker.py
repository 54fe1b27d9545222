"""`{% org_picker %}`: the organisation picker with its chips filled in from the chosen ids.

    {% load org_picker %}
    {% org_picker form.delegate label="受托人（B岗）" %}          a bound PickerField: name, mode, value from the form
    {% org_picker name="recipients" mode="units" multiple=True value="3,7" label="主送机关" %}

Any other keyword (max, placeholder, help, required, unit, id) is passed on to org/_picker.html.
"""
from __future__ import annotations

from django import template
from django.forms import BoundField
from django.template.loader import render_to_string

from zhengtong.org.picker import PickerField, selected_items

register = template.Library()


@register.simple_tag
def org_picker(field=None, **options):
    context = dict(options)
    if isinstance(field, BoundField) and isinstance(field.field, PickerField):
        picker = field.field
        context.setdefault("name", field.html_name)
        context.setdefault("id", field.auto_id or f"picker-{field.html_name}")
        context.setdefault("mode", picker.mode)
        context.setdefault("multiple", picker.multiple)
        if picker.max_items:
            context.setdefault("max", picker.max_items)
        context.setdefault("label", field.label)
        context.setdefault("required", picker.required)
        context.setdefault("help", field.help_text)
        context.setdefault("value", picker.prepare_value(field.value()))
    elif field is not None:
        context.setdefault("name", field)
    if not context.get("name"):
        raise template.TemplateSyntaxError("org_picker needs a PickerField or name=")
    mode = context.setdefault("mode", "people")
    if "selected" not in context and mode != "browse":
        context["selected"] = selected_items(mode, context.get("value"))
    if context.get("selected") and not context.get("value"):
        context["value"] = ",".join(str(item["id"]) for item in context["selected"])
    return render_to_string("org/_picker.html", context)
