"""公文交换 pages: the 收发员's 交换箱 and a delivery (预览, 打印, 签收, 退文, 转发 to subordinate units and the
forwards' receipts); the sender's 撤回, 重发 and 催办 posted from the 发送情况 panel of the document page (panels.py)
or, for a unit's forwards, from its delivery page; 收发统计 per unit and period with its .xlsx (exchange.stats).
Every write is one call of exchange.services; a refusal comes back as a message on the page, a delivery the user
may not handle as 404 (services record it), someone who may not use the page at all as 403 with the reason."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from zhengtong.audit.services import security_event
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.documents import selectors as documents

from . import panels, selectors, services, stats, stats_export
from .models import Delivery

Status = Delivery.Status
TABS = [(s.value, s.label) for s in Status]
PER_PAGE = 20


# refusals the services do not record themselves (the 三员 and accounts without a person were, by person_of)
UNRECORDED_REFUSALS = {"exchange.clerk_only": "exchange.inbox", "exchange.statistics_forbidden": "exchange.statistics"}


def _denied(request, exc: Forbidden, area: str = "交换箱"):
    """403 with the service's reason."""
    if exc.code in UNRECORDED_REFUSALS:
        security_event("permission.denied", user=request.user, outcome="denied",
                       object_type=UNRECORDED_REFUSALS[exc.code], detail={"code": exc.code})
    message = exc.message if exc.message.endswith("。") else exc.message + "。"  # the page goes on: 本次访问已记入…
    return render(request, "flow/denied.html", {"message": message, "area": area}, status=403)


def _receipts_url(document_id: int) -> str:
    return reverse("documents:detail", args=[document_id]) + "#exchange-receipts"


def _delivery_url(pk: int, section: str) -> str:
    return reverse("exchange:delivery", args=[pk]) + f"#{section}"


def _back_url(request, document_id: int) -> str:
    """Where 撤回 / 重发 / 催办 return: the delivery page they were posted from (a unit's forwards, `back`), or
    the document page's 发送情况."""
    back = request.POST.get("back", "")
    if back.isascii() and back.isdigit():
        return _delivery_url(int(back), "exchange-forwards")
    return _receipts_url(document_id)


def _ints(values) -> set[int]:
    return {int(v) for v in values if str(v).isascii() and str(v).isdigit()}


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


def _delivery_page(request, delivery: Delivery, *, reason: str = "", refuse_error: str = "", forward_error: str = "",
                   forward_checked: set[int] = frozenset(), status: int = 200):
    document = delivery.document
    recipients = list(document.recipients.select_related("unit"))
    signed = delivery.status == Status.SIGNED
    return render(request, "exchange/delivery.html", {
        "delivery": delivery, "document": document,
        "main_recipients": [r.unit.name for r in recipients if r.kind == "main"],
        "copy_recipients": [r.unit.name for r in recipients if r.kind == "copy"],
        "forwarded_by": delivery.sender_unit if delivery.sender_unit_id != document.unit_id else None,
        "print_exhausted": bool(delivery.print_limit) and delivery.printed >= delivery.print_limit,
        "forward_targets": (targets := panels.forward_targets(delivery) if signed else []),
        "forward_open": any(not t.has_it for t in targets),
        "forwards": panels.forwards(delivery) if signed else None,
        "forward_error": forward_error, "forward_checked": forward_checked,
        "reason": reason, "refuse_error": refuse_error, "max_reason": services.MAX_REASON}, status=status)


@login_required
@require_GET
@never_cache  # back from the printed PDF, the page is fetched again: 已打印 counts the copies just printed
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


@login_required
@require_POST
def print_copies(request, pk: int):
    """打印: the copies are counted against the print limit (services.record_print), then the sealed PDF opens to
    be printed; past the limit the delivery page says why."""
    try:
        item = services.record_print(request.user, pk, copies=request.POST.get("copies", ""))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, f"打印未完成：{exc.message}")
        return redirect(_delivery_url(pk, "exchange-print"))
    limit = f"，限印 {item.print_limit} 份" if item.print_limit else ""
    messages.success(request, f"已登记打印，本文已打印 {item.printed} 份{limit}")
    return redirect("documents:pdf", pk=item.document_id)


@login_required
@require_POST
def forward(request, pk: int):
    """转发 a signed-for document to some of the unit's subordinate units."""
    chosen = request.POST.getlist("units")
    try:
        created = services.forward_delivery(request.user, pk, unit_ids=chosen)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except Conflict as exc:  # not signed for, or a unit has the document already: the page now shows which
        messages.error(request, f"转发未完成：{exc.message}")
        return redirect(_delivery_url(pk, "exchange-forward"))
    except ServiceError as exc:  # the choice: shown at the form, the units ticked kept
        item, _identity = services.for_recipient(request.user, pk)
        return _delivery_page(request, item, forward_error=exc.message, forward_checked=_ints(chosen), status=400)
    messages.success(request, f"已转发给{'、'.join(d.unit.name for d in created)}，待其收发员签收")
    return redirect(_delivery_url(pk, "exchange-forwards"))


def _as_sender(request, pk: int, action, label: str, done):
    """撤回 / 重发 from the document page (or a delivery page's 转发情况): back there with what happened."""
    try:
        item, _identity = services.for_sender(request.user, pk)
        result = action(item)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, f"{label}未完成：{exc.message}")
        return redirect(_back_url(request, item.document_id))
    messages.success(request, done(result))
    return redirect(_back_url(request, item.document_id))


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
        return redirect(_back_url(request, document_id))
    messages.success(request, f"已催办 {len(urged)} 个尚未签收的单位")
    return redirect(_back_url(request, document_id))


# --- 收发统计 -----------------------------------------------------------------------------------------------------

PRESETS = [("month", "本月"), ("last_month", "上月"), ("quarter", "本季度"), ("year", "本年")]
ORDERS = {"org": "按单位", "score": "按得分"}


def _preset(key: str, today: date) -> tuple[date, date]:
    """A named period as its first and last day (both counted)."""
    if key == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if key == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if key == "year":
        return date(today.year, 1, 1), today
    return today.replace(day=1), today


def _period(params, today: date) -> stats.Period:
    """The page asks for the first and the last day, both counted (`start`, `end`); exchange.stats takes the day
    after the last one. Nothing asked: this month so far."""
    start, end = params.get("start", "").strip(), params.get("end", "").strip()
    if not start and not end:
        first, last = _preset("month", today)
        start, end = first.isoformat(), last.isoformat()
    day_after = end
    try:
        last = date.fromisoformat(end)
        day_after = (last + timedelta(days=1)).isoformat()
        if start and last < date.fromisoformat(start):
            raise ServiceError("exchange.invalid_period", "截止日期不能早于起始日期")
    except (ValueError, OverflowError):
        pass  # stats.parse_period names the date that is wrong
    return stats.parse_period(start, day_after, today=today)


def _statistics(request):
    """The report the page's query asks for, or the page saying what is wrong with the query (400) or why the user
    may not see it (403)."""
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        units, _queryset = stats.units_for(request.user)
    except Forbidden as exc:
        return None, _denied(request, exc, area="收发统计")
    params = request.GET
    order = params.get("order") if params.get("order") in ORDERS else "org"
    context = {"units": [u for u in units if u.active], "unit_id": None, "order": order, "report": None,
               "busy": params.get("busy") == "1",
               "start": params.get("start", ""), "end": params.get("end", ""), "today": today}
    try:
        period = _period(params, today)
        context.update(start=period.start.isoformat(), end=period.last_day.isoformat())
        context["unit_id"] = unit_id = stats.parse_unit(params.get("unit"))
        report = stats.unit_statistics(request.user, period, unit_id=unit_id, now=now)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return None, _denied(request, exc, area="收发统计")
    except ServiceError as exc:
        context["error"] = exc.message
        return None, _statistics_page(request, context, status=400)
    context["report"] = report
    return report, context


def _statistics_page(request, context: dict, *, status: int = 200):
    query = {"start": context["start"], "end": context["end"]}
    if context["unit_id"]:
        query["unit"] = context["unit_id"]
    presets = []
    for key, label in PRESETS:
        first, last = _preset(key, context["today"])
        presets.append((label, first.isoformat(), last.isoformat(),
                        (first.isoformat(), last.isoformat()) == (context["start"], context["end"])))
    report = context["report"]
    rows = report.rows if report else []
    if context["busy"]:  # the units that sent or received something (the total is the same: the others are zeros)
        rows = [r for r in rows if r.figures.received or r.figures.sent]
    if report and context["order"] == "score":  # the best first; units not assessed last
        rows = sorted(rows, key=lambda r: (r.figures.score is None, -(r.figures.score or 0), r.unit.name))
    return render(request, "exchange/statistics.html", {
        **context, "rows": rows, "presets": presets, "many_units": len(context["units"]) > 1,
        "orders": ORDERS.items(), "export_query": urlencode(query)}, status=status)


@login_required
@require_GET
def statistics(request):
    """收发统计: per unit and period, sent and received, time to 签收, on time, overdue and the timeliness score."""
    report, result = _statistics(request)
    if report is None:
        return result
    return _statistics_page(request, result)


@login_required
@require_GET
def statistics_xlsx(request):
    """The same report as .xlsx (audited by stats_export); a query the page refuses is refused the same way."""
    report, result = _statistics(request)
    if report is None:
        return result
    data, filename = stats_export.export(request.user, report)
    response = HttpResponse(data, content_type=stats_export.CONTENT_TYPE)
    response["Content-Disposition"] = stats_export.content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
