"""交换运维 in the 系统管理员's console: queues per neighbour, peer health, stuck and dead-lettered envelopes with
resend, envelopes refused on arrival. The 系统管理员 sees envelopes' routing data, never a document's content."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhengtong.console.sysadmin_views import sysadmin_required
from zhengtong.core.errors import ServiceError

from . import outbox, selectors


@sysadmin_required
def overview(request):
    context = selectors.overview()
    context["refused"] = selectors.refused_on_arrival()
    return render(request, "federation/console.html", context)


@sysadmin_required
@require_POST
def resend(request, pk: int):
    try:
        row = outbox.resend(request.user, pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"交换包 {row.envelope_id[:8]} 已重新排队发送")
    return redirect("console:sysadmin_exchange")
