"""Who may read a document (issue #4 §6), and the reads the pages and the API share.

Readers: the participants of its flow (every task holder, on whose behalf, 传阅 readers — they all have task rows),
the drafter, people granted explicitly, the 收发员 and 档案员 of the owning unit, and — once dispatched — the
收发员 of every recipient unit (unless the exchange recalled it from that unit). Everyone else gets 404, never 403: a document's existence is not disclosed. The 三员
read no documents (R7.2).
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from zhengtong.accounts.permissions import is_any_admin
from zhengtong.audit.services import security_event
from zhengtong.flow.models import Task
from zhengtong.org.models import Duty, Identity

from .models import Access, Dispatch, Document
from .services.common import not_found

ARCHIVIST_ROLE = "archivist"  # 档案员: a unit role (org.Role code)


def _identities(user) -> list[int]:
    person = getattr(user, "person", None)
    if person is None:
        return []
    return list(Identity.objects.filter(person=person).values_list("pk", flat=True))


def clerk_unit_ids(user) -> list[int]:
    """Units where the user is an active 收发员 or 档案员."""
    person = getattr(user, "person", None)
    if person is None:
        return []
    return list(Identity.objects.filter(person=person, active=True)
                .filter(Q(duty__code=Duty.DOC_CLERK) | Q(roles__code=ARCHIVIST_ROLE))
                .values_list("unit_id", flat=True).distinct())


def readable_ids(user) -> QuerySet | None:
    """The ids of every document the user may read, as one UNION ALL of indexed subqueries (None: nothing).

    A UNION rather than an OR of the same conditions: PostgreSQL cannot use an index for an OR across tables and
    reads every document instead (docs/search-notes.md measured 359 vs 171 ms p95 at 1,000,000 documents)."""
    if user is None or not user.is_authenticated or is_any_admin(user):
        return None
    ids = _identities(user)
    if not ids:
        return None
    units = clerk_unit_ids(user)
    parts = [
        Document.objects.filter(instance_id__in=Task.objects.filter(assignee_id__in=ids).values("instance_id"))
        .values("pk"),
        Document.objects.filter(instance_id__in=Task.objects.filter(on_behalf_of_id__in=ids).values("instance_id"))
        .values("pk"),
        Document.objects.filter(drafter_id__in=ids).values("pk"),
        Access.objects.filter(identity_id__in=ids).values("document_id"),
    ]
    if units:
        parts += [Document.objects.filter(unit_id__in=units).values("pk"),
                  Dispatch.objects.filter(unit_id__in=units, withdrawn=False).values("document_id")]
    return parts[0].union(*parts[1:], all=True)


def reader_keys(document: Document) -> list[str]:
    """The same rule as readable_ids, seen from one document, as core.search reader keys: "i<identity>" for
    everyone holding (or held for) a task of its flow, its drafter and those granted; "c<unit>" for the 收发员 and
    档案员 of the owning unit and of every unit it was dispatched to. Kept in the index by services.common."""
    identities = {document.drafter_id}
    if document.instance_id:
        for assignee, principal in Task.objects.filter(instance_id=document.instance_id).values_list(
                "assignee_id", "on_behalf_of_id"):
            identities.update((assignee, principal))
    identities.update(Access.objects.filter(document_id=document.pk).values_list("identity_id", flat=True))
    units = {document.unit_id, *Dispatch.objects.filter(document_id=document.pk, withdrawn=False)
             .values_list("unit_id", flat=True)}
    return [f"i{i}" for i in sorted(i for i in identities if i)] + [f"c{u}" for u in sorted(u for u in units if u)]


def caller_reader_keys(user) -> list[str]:
    """The user's side of reader_keys: their identities and the units where they are 收发员 or 档案员 ([] when
    they may read nothing)."""
    if user is None or not user.is_authenticated or is_any_admin(user):
        return []
    ids = _identities(user)
    if not ids:
        return []
    return [f"i{i}" for i in ids] + [f"c{u}" for u in clerk_unit_ids(user)]


def readable(user) -> QuerySet[Document]:
    """Every document the user may read, as one query."""
    ids = readable_ids(user)
    return Document.objects.none() if ids is None else Document.objects.filter(pk__in=ids)


def get_readable(user, pk) -> Document:
    """The document if the user may read it; otherwise NotFound (and the refusal is recorded)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise not_found() from None
    document = readable(user).filter(pk=pk).select_related("unit", "issuing_unit", "drafter__person",
                                                          "instance").first()
    if document is None:
        if Document.objects.filter(pk=pk).exists():
            security_event("permission.denied", user=user, outcome="denied", object_type="documents.document",
                           object_id=pk, detail={"code": "document.not_readable"})
        raise not_found()
    return document


def my_documents(user, *, direction: str | None = None, status: str | None = None) -> QuerySet[Document]:
    rows = readable(user).select_related("unit", "issuing_unit", "drafter__person")
    if direction:
        rows = rows.filter(direction=direction)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-updated_at", "-pk")


def void_numbers(unit_ids: list[int]):
    from .models import NumberEntry

    return (NumberEntry.objects.filter(unit_id__in=unit_ids, status=NumberEntry.Status.VOID)
            .order_by("-year", "code", "seq"))
