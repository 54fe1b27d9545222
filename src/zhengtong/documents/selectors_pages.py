"""Reads only the 公文 pages need: the 文号登记簿 (register of numbers) a 收发员 keeps, the opinions on a document."""
from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from zhengtong.accounts.permissions import is_any_admin
from zhengtong.org.models import Duty, Identity

from .models import Document, NumberEntry


def doc_clerk_unit_ids(user) -> list[int]:
    """Units where the user is an active 收发员 (the 三员 never are, R7.2)."""
    person = getattr(user, "person", None)
    if person is None or is_any_admin(user):
        return []
    return list(Identity.objects.filter(person=person, active=True, duty__code=Duty.DOC_CLERK)
                .values_list("unit_id", flat=True).distinct())


def number_entries(unit_ids: list[int]) -> QuerySet[NumberEntry]:
    """Numbers of the clerk's units, and numbers their units took in a parent body's name (市政府办公室 numbers
    示政发 documents of 示范市人民政府): the register shows what this office gave out."""
    return NumberEntry.objects.filter(Q(unit_id__in=unit_ids) | Q(taken_by__unit_id__in=unit_ids))


def number_books(unit_ids: list[int]) -> list[dict]:
    """One row per issuing unit, 代字 and year: used, 空号, the highest sequence given out."""
    return list(number_entries(unit_ids).values("unit_id", "unit__name", "code", "year")
                .annotate(used=Count("pk", filter=Q(status=NumberEntry.Status.USED)),
                          void=Count("pk", filter=Q(status=NumberEntry.Status.VOID)), last=Max("seq"))
                .order_by("-year", "unit__name", "code"))


def book_entries(unit_ids: list[int], *, unit_id: int, code: str, year: int) -> QuerySet[NumberEntry]:
    return (number_entries(unit_ids).filter(unit_id=unit_id, code=code, year=year)
            .select_related("document", "taken_by__person").order_by("seq"))


def opinions(user, document: Document) -> list:
    """办理意见 for the document page, in order: every step's written opinion (拟办, the leaders' 批示 …) and each
    圈阅, with who gave it — what a 签报's or 收文's 处理单 carries; the flow's trail is the record. Only for the
    flow's participants and the owning unit's people (its 收发员, 档案员): a recipient unit reading a dispatched
    document does not see the sender's internal opinions."""
    from zhengtong.flow.models import TrailEntry
    from zhengtong.flow.selectors import is_participant

    person = getattr(user, "person", None)
    if document.instance_id is None or person is None:
        return []
    own_unit = person.identities.filter(active=True, unit_id=document.unit_id).exists()
    if not own_unit and not is_participant(user, document.instance):
        return []
    return list(TrailEntry.objects.filter(Q(operation="circle_read") | ~Q(opinion=""), instance_id=document.instance_id)
                .select_related("identity__person", "on_behalf_of__person").order_by("created_at", "id"))
