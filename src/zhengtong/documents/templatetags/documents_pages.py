"""Small template helpers of the 公文 pages."""
from django import template

register = template.Library()


@register.filter
def recipient_ids(recipients, kind: str) -> str:
    """"3,7": the unit ids of the document's 主送 ("main") or 抄送 ("copy") rows, as the org picker's value."""
    return ",".join(str(r.unit_id) for r in recipients if r.kind == kind)
