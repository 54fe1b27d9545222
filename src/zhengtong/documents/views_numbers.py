"""文号登记簿: the 收发员's read-only register of numbers per 机关代字 and year — used ones and 空号. 空号 are
reused at the 编号 step (the task page's 取号 form), not here."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from zhengtong.audit.services import security_event

from . import selectors
from .selectors_pages import book_entries, doc_clerk_unit_ids, number_books

PAGE_SIZE = 50


def _chosen(books: list[dict], raw: str) -> dict | None:
    """The book named by `?book=<unit>-<code>-<year>`, else the first (the latest year); bad values fall back."""
    for book in books:
        if raw == f"{book['unit_id']}-{book['code']}-{book['year']}":
            return book
    return books[0] if books else None


@login_required
def number_register(request):
    units = doc_clerk_unit_ids(request.user)
    if not units:
        security_event("permission.denied", user=request.user, outcome="denied",
                       detail={"code": "document.numbers_not_clerk"})
        return render(request, "flow/denied.html", {"message": "文号登记簿只对收发员开放。", "area": "文号登记簿"},
                      status=403)
    books = number_books(units)
    for book in books:
        book["key"] = f"{book['unit_id']}-{book['code']}-{book['year']}"
    book = _chosen(books, request.GET.get("book", ""))
    page, readable = None, set()
    if book is not None:
        rows = book_entries(units, unit_id=book["unit_id"], code=book["code"], year=book["year"])
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        ids = [e.document_id for e in page.object_list if e.document_id]
        readable = set(selectors.readable(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    return render(request, "documents/numbers.html", {"books": books, "book": book, "page": page,
                                                       "readable": readable})
