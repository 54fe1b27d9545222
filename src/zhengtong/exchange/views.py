"""公文交换 pages: the 收发员's 交换箱 and a delivery (预览, 签收, 退文); the sender's 撤回, 重发 and 催办 posted from the
发送情况 panel of the document page (panels.py). Every write is one call of exchange.services; a refusal comes back as
a message on the page, a delivery the user may not handle as 404 (services record it), a non-clerk as 403."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from zhengtong.audit.services import security_event
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.documents import selectors as documents

from . import selectors, services
from .models import Delivery

Status = Delivery.Status
TABS = [(s.value, s.label) for s in Status]
PER_PAGE = 20


def _denied(request, exc: Forbidden):
    """403 with the service's reason. The 三员 and accounts without a person were recorded by person_of already."""
    if exc.code == "exchange.clerk_only":
        security_event("permission.denied", user=request.user, outcome="denied", object_type="exchange.inbox",
                       detail={"code": exc.code})
    return render(request, "flow/denied.html", {"message": exc.message, "area": "交换箱"}, status=403)


def _receipts_url(document_id: int) -> str:
    return reverse("documents:detail", args=[document_id]) + "#exchange-receipts"


@login_required
@require_GET
def inbox(request):
    status = request.GET.get("status", Status.PENDING)
    status = status if status in dict(TABS) else Status.PENDING
    try:
        counts = selectors.inbox_counts(request.user)
        rows = selectors.inbox(request.user, status).select_related("refused_by__person", "recalled_by__person",
                                                                     "incoming")
        many_units = len(selectors.clerk_units(request.user)) > 1
    except Forbidden as exc:
        return _denied(request, exc)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "exchange/inbox.html", {
        "tabs": [(key, label, counts[key]) for key, label in TABS], "status": status,
        "status_label": Status(status).label, "page": page, "many_units": many_units})


def _delivery_page(request, delivery: Delivery, *, reason: str = "", refuse_error: str = "", status: int = 200):
    document = delivery.document
    recipients = list(document.recipients.select_related("unit"))
    return render(request, "exchange/delivery.html", {
        "delivery": delivery, "document": document,
        "main_recipients": [r.unit.name for r in recipients if r.kind == "main"],
        "copy_recipients": [r.unit.name for r in recipients if r.kind == "copy"],
        "reason": reason, "refuse_error": refuse_error, "max_reason": services.MAX_REASON}, status=status)


@login_required
@require_GET
def delivery(request, pk: int):
    """The recipient 收发员's view of one delivery; the first look while it is pending is the 已查看 receipt (a
    withdrawn one is only shown, not marked as read)."""
    try:
        item, _identity = services.for_recipient(request.user, pk)
        if item.status == Status.PENDING:
            item = services.open_delivery(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    return _delivery_page(request, item)


@login_required
@require_POST
def sign(request, pk: int):
    try:
        incoming = services.sign_delivery(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, f"签收未完成：{exc.message}")
        return redirect("exchange:delivery", pk=pk)
    messages.success(request, f"已签收，收文号 {incoming.receipt_number}，收文流程已启动")
    return redirect("documents:detail", pk=incoming.pk)


@login_required
@require_POST
def refuse(request, pk: int):
    reason = request.POST.get("reason", "")
    try:
        services.refuse_delivery(request.user, pk, reason=reason)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except Conflict as exc:  # signed, refused or recalled meanwhile: the page now says which
        messages.error(request, f"退文未完成：{exc.message}")
        return redirect("exchange:delivery", pk=pk)
    except ServiceError as exc:  # the reason: shown at the form, what was typed kept
        item, _identity = services.for_recipient(request.user, pk)
        return _delivery_page(request, item, reason=reason, refuse_error=exc.message, status=400)
    messages.success(request, "已退文，发文单位将看到退文理由")
    return redirect(f"{reverse('exchange:inbox')}?status={Status.REFUSED}")


def _as_sender(request, pk: int, action, label: str, done):
    """撤回 / 重发 from the document page: back to its 发送情况 with what happened."""
    try:
        item, _identity = services.for_sender(request.user, pk)
        result = action(item)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, f"{label}未完成：{exc.message}")
        return redirect(_receipts_url(item.document_id))
    messages.success(request, done(result))
    return redirect(_receipts_url(item.document_id))


@login_required
@require_POST
def recall(request, pk: int):
    return _as_sender(request, pk, lambda d: services.recall_delivery(request.user, d.pk,
                                                                       reason=request.POST.get("reason", "")),
                      "撤回", lambda d: f"已撤回发往{d.unit.name}的文件")


@login_required
@require_POST
def resend(request, pk: int):
    return _as_sender(request, pk, lambda d: services.resend_delivery(request.user, d.pk),
                      "重发", lambda d: f"已重发给{d.unit.name}")


@login_required
@require_POST
def urge(request, document_id: int):
    try:
        document = documents.get_readable(request.user, document_id)
        urged = services.urge_dispatch(request.user, document, message=request.POST.get("message", ""))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, f"催办未完成：{exc.message}")
        return redirect(_receipts_url(document_id))
    messages.success(request, f"已催办 {len(urged)} 个尚未签收的单位")
    return redirect(_receipts_url(document_id))
