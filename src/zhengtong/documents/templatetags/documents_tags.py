from django import template
from django.utils.safestring import mark_safe

from ..body import display_html

register = template.Library()


@register.filter
def body_display(html: str) -> str:
    """The stored (sanitized) body for reading inside a page: headings as styled paragraphs, so the page keeps one
    h1 and its own outline."""
    return mark_safe(display_html(html or ""))  # noqa: S308 — display_html escapes all text itself
