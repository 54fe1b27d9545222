"""One platform instance of the federation tests, driven from outside: `python tests/federation/node.py <command>`
with the instance's environment (DATA_DIR, DATABASE_URL). Each command prints one JSON line.

    setup <role>                 the instance's units and 收发员 (role: county, city, province) and its identity
    send <unit code> <title> [n] [--one-pdf] [--pdf-bytes N]
                                 核发 a sealed 通知 (n documents) from the instance's office to that remote unit;
                                 --one-pdf: render the GB/T 9704 PDF once and reuse its bytes for every document
                                 (the 核发 still goes through record_dispatch); --pdf-bytes: pad that PDF to about N
                                 bytes with an embedded incompressible attachment (implies --one-pdf)
    deliveries <title>           the deliveries of documents with that title here: status, events, reason
    sign|refuse|recall <title>   the local 收发员 acts on the delivery (refuse: reason "文号有误，请核对")
    envelopes                    the outbox and inbox by kind and status
    summary <title>              counts for many documents with that title: deliveries (by status, distinct
                                 documents and 文号, with a "delivered" event, "delivered" events in all) and envelopes
    timing <title>               outbox / inbox times of that title's document envelopes: first written, first and
                                 last sent or accepted, and the receipts' (ISO times, bytes; for the benchmark)
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2] / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengtong.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.utils import timezone  # noqa: E402

from zhengtong.accounts.models import User  # noqa: E402
from zhengtong.documents.models import Document, Recipient  # noqa: E402
from zhengtong.exchange import services as exchange  # noqa: E402
from zhengtong.exchange.federation.directory import create_local  # noqa: E402
from zhengtong.exchange.federation.models import Envelope, PendingReceipt  # noqa: E402
from zhengtong.exchange.models import Delivery, DeliveryEvent  # noqa: E402
from zhengtong.org.credit_code import make_credit_code  # noqa: E402
from zhengtong.org.models import Duty, Identity, Person, Region, Unit  # noqa: E402

PASSWORD = "Fed@2026test"
ROLES = {  # instance id, name, level; its office (region code, region, unit, 代字, credit-code body), its 收发员
    "county": ("county-jiaxian", "甲县政通平台", "county",
               ("519001", "甲县", "甲县人民政府办公室", "甲府办", "11519001MB0000001"), "jx.sfy"),
    "city": ("city-shifan", "示范市政通平台", "city",
             ("519000", "示范市", "示范市人民政府办公室", "示府办", "11519000MB0000002"), "sz.sfy"),
    # a county of another city without a platform of its own: its units are on the province's platform
    "province": ("province-demo", "省级政通平台", "province",
                 ("529002", "乙县", "乙县人民政府办公室", "乙府办", "11529002MB0000003"), "yx.sfy"),
}


def office() -> Unit:
    return Unit.objects.filter(remote__isnull=True).order_by("pk").first()


def clerk() -> User:
    return Identity.objects.get(unit=office(), duty__code=Duty.DOC_CLERK, active=True).person.user


def setup(role: str) -> dict:
    instance_id, name, level, (code, region_name, unit_name, doc_code, body), username = ROLES[role]
    region = Region.objects.create(code=code, name=region_name, level=Region.Level.COUNTY)
    unit = Unit.objects.create(name=unit_name, kind=Unit.Kind.GOVERNMENT, credit_code=make_credit_code(body),
                               region=region, doc_code=doc_code)
    for login, person_name, duty in ((username, f"{region_name}收发员", Duty.DOC_CLERK),
                                     (f"{username}.zr", f"{region_name}办公室主任", Duty.PRINCIPAL)):
        user = User.objects.create_user(username=login, password=PASSWORD)
        person = Person.objects.create(name=person_name, user=user)
        Identity.objects.create(person=person, unit=unit, duty=Duty.objects.get(code=duty), is_main=True)
    local = create_local(instance_id=instance_id, name=name, level=level)
    return {"instance": local.instance_id, "unit": unit.credit_code}


def padded_pdf(pdf: bytes, size: int) -> bytes:
    """The PDF with an embedded attachment of random bytes, so that the file is about `size` bytes (a scanned
    annex, say): incompressible, so every byte is really hashed, signed over and sent."""
    import io

    from pypdf import PdfReader, PdfWriter

    if size <= len(pdf):
        return pdf
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_attachment("附件扫描件.bin", os.urandom(size - len(pdf) - 600))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def send(code: str, title: str, count: str = "1", *options: str) -> dict:
    import hashlib

    from zhengtong.documents.services.outgoing import record_dispatch, render_pdf

    pdf_bytes = int(options[options.index("--pdf-bytes") + 1]) if "--pdf-bytes" in options else 0
    one_pdf = "--one-pdf" in options or pdf_bytes > 0
    sender = Identity.objects.get(unit=office(), duty__code=Duty.DOC_CLERK)
    to = Unit.objects.get(credit_code=code)
    ids, shared = [], None
    first = (Document.objects.filter(unit=office()).aggregate(m=Max("doc_seq"))["m"] or 0) + 1
    for n in range(first, first + int(count)):
        now = timezone.now()
        document = Document.objects.create(
            direction="outgoing", doc_kind="通知", status="sealed", unit=office(), issuing_unit=office(),
            drafter=sender, title=title, doc_code=office().doc_code, doc_year=now.year, doc_seq=n,
            doc_number=f"{office().doc_code}〔{now.year}〕{n}号", body_html="<p>请按要求做好有关工作。</p>",
            body_text="请按要求做好有关工作。", issued_date=now.date(), sealed_at=now)
        Recipient.objects.create(document=document, unit=to, kind="main")
        if shared is None or not one_pdf:
            shared = padded_pdf(render_pdf(document).pdf, pdf_bytes)
        pdf = shared
        document.sealed_pdf.save(f"{document.pk}.pdf", ContentFile(pdf), save=False)
        document.sealed_sha256 = hashlib.sha256(pdf).hexdigest()
        document.save()
        record_dispatch(sender.person.user, document, sender)
        ids.append(document.pk)
    return {"documents": ids, "pdf_bytes": len(shared or b"")}


def deliveries(title: str) -> list[dict]:
    rows = Delivery.objects.filter(document__title=title).select_related("unit").order_by("pk")
    return [{"id": d.pk, "unit": d.unit.credit_code, "status": d.status, "reason": d.reason,
             "incoming": d.incoming_id, "events": [[e.kind, e.note] for e in d.events.order_by("at", "pk")]}
            for d in rows]


def act(action: str, title: str) -> dict:
    [delivery] = [d for d in Delivery.objects.filter(document__title=title).order_by("-pk")][:1]
    user = clerk()
    if action == "sign":
        incoming = exchange.sign_delivery(user, delivery.pk)
        return {"incoming": incoming.pk, "receipt_number": incoming.receipt_number,
                "flow_started": incoming.instance_id is not None}
    if action == "refuse":
        return {"status": exchange.refuse_delivery(user, delivery.pk, reason="文号有误，请核对").status}
    return {"status": exchange.recall_delivery(user, delivery.pk, reason="内容需修改").status}


def envelopes() -> dict:
    rows = Envelope.objects.values("direction", "kind", "status").annotate(n=Count("pk"))
    return {f"{r['direction']}/{r['kind']}/{r['status']}": r["n"] for r in rows}


def summary(title: str) -> dict:
    rows = Delivery.objects.filter(document__title=title)
    delivered = DeliveryEvent.objects.filter(delivery__in=rows, kind=DeliveryEvent.Kind.DELIVERED)
    return {"deliveries": rows.count(),
            "documents": rows.values("document").distinct().count(),
            "doc_numbers": rows.values("document__doc_number").distinct().count(),
            "by_status": {r["status"]: r["n"] for r in rows.values("status").annotate(n=Count("pk"))},
            "with_delivered_event": rows.filter(events__kind=DeliveryEvent.Kind.DELIVERED).distinct().count(),
            "delivered_events": delivered.count(),
            "pending_receipts": PendingReceipt.objects.count(),
            "envelopes": envelopes()}


def timing(title: str) -> dict:
    from django.db.models import Min

    def span(rows) -> dict:
        return {**rows.aggregate(n=Count("pk"), first=Min("created_at"), first_done=Min("done_at"),
                                 last=Max("done_at")),
                "bytes": sum(rows.values_list("size", flat=True))}

    documents = Envelope.objects.filter(kind=Envelope.Kind.DOCUMENT, document__title=title)
    return {"out": span(documents.filter(direction=Envelope.Direction.OUT)),
            "in": span(documents.filter(direction=Envelope.Direction.IN)),
            "receipts_in": span(Envelope.objects.filter(direction=Envelope.Direction.IN,
                                                        kind=Envelope.Kind.RECEIPT))}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    handlers = {"setup": setup, "send": send, "deliveries": deliveries, "envelopes": envelopes,
                "summary": summary, "timing": timing,
                "sign": lambda t: act("sign", t), "refuse": lambda t: act("refuse", t),
                "recall": lambda t: act("recall", t)}
    print(json.dumps(handlers[command](*args), ensure_ascii=False, default=str))
