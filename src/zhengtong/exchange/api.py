"""公文交换 API, mounted at /api/v1/exchange (issue #5 §4; keep stable).

- GET  /exchange/inbox?status=pending|signed|refused|recalled    the caller's units' 交换箱 (收发员 only)
- POST /exchange/deliveries/{id}/sign                             签收 → {"incoming_document_id"}
- POST /exchange/deliveries/{id}/refuse {"reason"}                拒收/退文
- POST /exchange/deliveries/{id}/recall {"reason"?}               撤回 (sender, not yet signed)
- POST /exchange/deliveries/{id}/resend                           重发 after 退文/撤回 (sender)
- POST /exchange/deliveries/{id}/print {"copies"}                 count printed copies against the print limit
- GET  /exchange/deliveries/{id}/forward-targets                  the receiving unit's subordinate units
- POST /exchange/deliveries/{id}/forward {"units": [...]}         转发 a signed-for document to them
- POST /exchange/dispatches/{id}/urge {"message"?}                催办 the recipients that have not signed
- GET  /exchange/dispatches/{id}/receipts                         per recipient: delivered, opened, signed, refused…
- GET  /exchange/statistics?from=&to=&unit=                       收发统计 per unit and period (exchange.stats)
- GET  /exchange/statistics.xlsx?from=&to=&unit=                  the same as .xlsx

A dispatch's id is the id of the dispatched document (one 核发 per document).
"""
from __future__ import annotations

from datetime import date, datetime

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from zhengtong.documents import selectors as documents

from . import selectors, services, stats, stats_export
from .models import Delivery

router = Router(tags=["exchange"])


class ErrorOut(Schema):
    code: str
    message: str


class DeliveryOut(Schema):
    id: int
    document_id: int
    title: str
    doc_number: str
    issuing_unit: str = Field(description="发文机关")
    sender_unit_id: int
    unit_id: int = Field(description="收文单位")
    unit: str
    kind: str = Field(description="main 主送 | copy 抄送")
    copies: int
    urgency: str
    status: str = Field(description="pending 待签收 | signed 已签收 | refused 已退文 | recalled 已撤回")
    delivered_at: datetime
    opened_at: datetime | None
    signed_at: datetime | None
    signed_by: str
    incoming_document_id: int | None
    refused_at: datetime | None
    recalled_at: datetime | None
    reason: str
    urge_count: int
    resend_of: int | None
    print_limit: int = Field(0, description="限印份数，0 表示不限")
    printed: int = 0
    forwarded_from: int | None = Field(None, description="转发自哪一交换件")


class EventOut(Schema):
    kind: str
    at: datetime
    by: str
    note: str


class ReceiptOut(DeliveryOut):
    events: list[EventOut]


class ReasonIn(Schema):
    reason: str = ""


class MessageIn(Schema):
    message: str = ""


class SignedOut(Schema):
    incoming_document_id: int
    receipt_number: str


class UrgedOut(Schema):
    urged: int


def _name(identity) -> str:
    return identity.person.name if identity is not None else ""


def delivery_out(d: Delivery) -> dict:
    doc = d.document
    return {"id": d.pk, "document_id": doc.pk, "title": doc.title, "doc_number": doc.doc_number,
            "issuing_unit": (doc.issuing_unit or d.sender_unit).name,
            "sender_unit_id": d.sender_unit_id, "unit_id": d.unit_id, "unit": d.unit.name, "kind": d.kind,
            "copies": d.copies, "urgency": doc.urgency, "status": d.status, "delivered_at": d.delivered_at,
            "opened_at": d.opened_at, "signed_at": d.signed_at, "signed_by": _name(d.signed_by),
            "incoming_document_id": d.incoming_id, "refused_at": d.refused_at, "recalled_at": d.recalled_at,
            "reason": d.reason, "urge_count": d.urge_count, "resend_of": d.resend_of_id,
            "print_limit": d.print_limit, "printed": d.printed, "forwarded_from": d.forwarded_from_id}


@router.get("/inbox", response={200: list[DeliveryOut], 400: ErrorOut, 403: ErrorOut}, summary="交换箱（收发员）",
            operation_id="exchange_inbox")
def inbox(request, status: str = "pending"):
    return [delivery_out(d) for d in selectors.inbox(request.user, status)[:200]]


@router.post("/deliveries/{delivery_id}/sign", response={200: SignedOut, 404: ErrorOut, 409: ErrorOut},
             summary="签收：登记为本单位收文并启动收文流程", operation_id="exchange_sign")
def sign(request, delivery_id: int):
    incoming = services.sign_delivery(request.user, delivery_id)
    return {"incoming_document_id": incoming.pk, "receipt_number": incoming.receipt_number}


@router.post("/deliveries/{delivery_id}/refuse", response={200: DeliveryOut, 400: ErrorOut, 404: ErrorOut,
                                                            409: ErrorOut},
             summary="拒收/退文（须填写理由）", operation_id="exchange_refuse")
def refuse(request, delivery_id: int, payload: ReasonIn):
    return delivery_out(services.refuse_delivery(request.user, delivery_id, reason=payload.reason))


@router.post("/deliveries/{delivery_id}/recall", response={200: DeliveryOut, 400: ErrorOut, 404: ErrorOut,
                                                            409: ErrorOut},
             summary="撤回尚未签收的文件（发文单位）", operation_id="exchange_recall")
def recall(request, delivery_id: int, payload: ReasonIn | None = None):
    return delivery_out(services.recall_delivery(request.user, delivery_id, reason=payload.reason if payload else ""))


@router.post("/deliveries/{delivery_id}/resend", response={200: DeliveryOut, 404: ErrorOut, 409: ErrorOut},
             summary="退文或撤回后重发（发文单位）", operation_id="exchange_resend")
def resend(request, delivery_id: int):
    return delivery_out(services.resend_delivery(request.user, delivery_id))


@router.post("/dispatches/{document_id}/urge", response={200: UrgedOut, 400: ErrorOut, 404: ErrorOut},
             summary="催办尚未签收的收文单位", operation_id="exchange_urge")
def urge(request, document_id: int, payload: MessageIn | None = None):
    document = documents.get_readable(request.user, document_id)
    return {"urged": len(services.urge_dispatch(request.user, document,
                                                message=payload.message if payload else ""))}


@router.get("/dispatches/{document_id}/receipts", response={200: list[ReceiptOut], 404: ErrorOut},
            summary="各收文单位的回执：送达、查看、签收、退文、撤回、催办", operation_id="exchange_receipts")
def receipts(request, document_id: int):
    document = documents.get_readable(request.user, document_id)
    out = []
    for d in selectors.receipts(request.user, document):
        row = delivery_out(d)
        row["events"] = [{"kind": e.kind, "at": e.at, "by": _name(e.identity), "note": e.note}
                         for e in sorted(d.events.all(), key=lambda e: (e.at, e.pk))]
        out.append(row)
    return out


class PrintIn(Schema):
    copies: int = 1


@router.post("/deliveries/{delivery_id}/print", response={200: DeliveryOut, 400: ErrorOut, 404: ErrorOut,
                                                           409: ErrorOut},
             summary="登记打印份数（不得超过限印份数）", operation_id="exchange_print")
def print_copies(request, delivery_id: int, payload: PrintIn):
    return delivery_out(services.record_print(request.user, delivery_id, copies=payload.copies))


# --- 收发统计 ---------------------------------------------------------------------------------------------------

class StatisticsQuery(Schema):
    # strings, checked by exchange.stats, so bad input answers with the stable codes below rather than 422
    period_from: str = Field("", alias="from", description="起始日期 YYYY-MM-DD（含）；缺省为截止日期所在月的1日")
    to: str = Field("", description="截止日期 YYYY-MM-DD（不含）；缺省为明天，即统计到今天")
    unit: str = Field("", description="单位编号；缺省为可查看的全部单位")


class FiguresOut(Schema):
    sent_documents: int = Field(description="发文件数")
    sent: int = Field(description="发出份数（每个收文单位一份，含重发）")
    sent_refused: int = Field(description="发出后被退文")
    sent_recalled: int = Field(description="发出后撤回")
    received: int = Field(description="收文份数（不含撤回）")
    signed: int
    pending: int
    refused: int = Field(description="本单位退文")
    median_minutes: float | None = Field(description="签收用时中位数（工作分钟）")
    p90_minutes: float | None = Field(description="签收用时 P90（工作分钟，最近秩）")
    on_time: int = Field(description="时限内签收")
    assessed: int = Field(description="已考核：已签收 + 超过时限仍未签收")
    on_time_share: float | None = Field(description="及时签收率 = on_time / assessed")
    overdue: int = Field(description="超时 = overdue_signed + overdue_pending")
    overdue_signed: int
    overdue_pending: int
    score: float | None = Field(description="及时性得分 0–100（见 exchange/stats.py）；无考核份数时为 null")


class UnitFiguresOut(FiguresOut):
    unit_id: int
    unit: str
    short_name: str


class StatisticsOut(Schema):
    period_from: date = Field(alias="from")
    to: date = Field(description="不含")
    period: str
    generated_at: datetime
    office_hours: str
    limit_hours: float
    units: list[UnitFiguresOut]
    total: FiguresOut


def _report(request, params: StatisticsQuery) -> stats.Report:
    now = timezone.now()
    period = stats.parse_period(params.period_from, params.to, today=timezone.localdate(now))
    return stats.unit_statistics(request.user, period, unit_id=stats.parse_unit(params.unit), now=now)


@router.get("/statistics", response={200: StatisticsOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            summary="收发统计：各单位收发文、签收用时、及时签收率、超时和及时性得分", operation_id="exchange_statistics",
            by_alias=True,
            description="统计期间 [from, to)，按送达时间。单位负责人、单位系统管理员、收发员查看本单位；办公室（如市政府办公室）"
                        "查看本区划及下级区划的全部单位。错误：exchange.invalid_period、exchange.invalid_unit（400），"
                        "exchange.statistics_forbidden（403），exchange.unit_not_found（404）。")
def statistics(request, params: Query[StatisticsQuery]):
    return _report(request, params).as_dict()


@router.get("/statistics.xlsx", response={200: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            summary="收发统计导出（.xlsx）", operation_id="exchange_statistics_xlsx")
def statistics_xlsx(request, params: Query[StatisticsQuery]):
    data, filename = stats_export.export(request.user, _report(request, params))
    response = HttpResponse(data, content_type=stats_export.CONTENT_TYPE)
    response["Content-Disposition"] = stats_export.content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


class UnitOut(Schema):
    id: int
    name: str


class ForwardIn(Schema):
    units: list[int]


@router.get("/deliveries/{delivery_id}/forward-targets", response={200: list[UnitOut], 404: ErrorOut},
            summary="可转发的下级单位", operation_id="exchange_forward_targets")
def forward_targets(request, delivery_id: int):
    from zhengtong.org.models import Unit

    delivery, _ = services.for_recipient(request.user, delivery_id)
    return [{"id": u.pk, "name": u.name} for u in Unit.objects.filter(parent_id=delivery.unit_id, active=True)]


@router.post("/deliveries/{delivery_id}/forward", response={200: list[DeliveryOut], 400: ErrorOut, 404: ErrorOut,
                                                             409: ErrorOut},
             summary="转发给本单位的下级单位（须先签收）", operation_id="exchange_forward")
def forward(request, delivery_id: int, payload: ForwardIn):
    return [delivery_out(d) for d in services.forward_delivery(request.user, delivery_id, unit_ids=payload.units)]
