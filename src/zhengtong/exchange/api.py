"""公文交换 API, mounted at /api/v1/exchange (issue #5 §4; keep stable).

- GET  /exchange/inbox?status=pending|signed|refused|recalled    the caller's units' 交换箱 (收发员 only)
- POST /exchange/deliveries/{id}/sign                             签收 → {"incoming_document_id"}
- POST /exchange/deliveries/{id}/refuse {"reason"}                拒收/退文
- POST /exchange/deliveries/{id}/recall {"reason"?}               撤回 (sender, not yet signed)
- POST /exchange/deliveries/{id}/resend                           重发 after 退文/撤回 (sender)
- POST /exchange/deliveries/{id}/print {"copies"}                 count printed copies against the print limit
- POST /exchange/dispatches/{id}/urge {"message"?}                催办 the recipients that have not signed
- GET  /exchange/dispatches/{id}/receipts                         per recipient: delivered, opened, signed, refused…

A dispatch's id is the id of the dispatched document (one 核发 per document).
"""
from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from zhengtong.documents import selectors as documents

from . import selectors, services
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
            "print_limit": d.print_limit, "printed": d.printed}


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
