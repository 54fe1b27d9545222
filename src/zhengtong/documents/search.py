"""Full-text search over the documents a user may read (issue #4 §6): core.search does the matching and the
ranking; the readable set is applied inside the same SQL, so a hit the user may not read is never counted. The
caller's reader keys (selectors.caller_reader_keys) narrow the matches inside the index first."""
from __future__ import annotations

from zhengtong.audit.services import record

from . import selectors
from .models import Document
from .services.common import SEARCH_KIND

PAGE_SIZE = 20


def search_documents(user, q: str, *, page: int = 1) -> dict:
    from zhengtong.core import search

    page = max(1, min(int(page or 1), 500))
    allowed = selectors.readable_ids(user)
    if allowed is None:
        allowed = Document.objects.none().values("pk")
    # the caller's reader keys let the index narrow the matches first; `allowed` is the exact rule on what is left
    found = search.search(q, kinds=[SEARCH_KIND], allowed=allowed, readers=selectors.caller_reader_keys(user),
                          limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows = {d.pk: d for d in Document.objects.filter(pk__in=[h.object_id for h in found.hits])}
    hits = []
    for hit in found.hits:
        document = rows.get(hit.object_id)
        if document is None:  # removed since it was indexed
            continue
        hits.append({"id": document.pk, "title_html": hit.title_html, "number_html": hit.number_html,
                     "snippet_html": hit.snippet_html, "doc_number": document.doc_number,
                     "receipt_number": document.receipt_number, "direction": document.direction,
                     "status": document.status, "score": hit.score})
    record("document.searched", user=user, detail={"q": q[:100], "total": found.total, "page": page})
    return {"total": found.total, "total_capped": getattr(found, "total_capped", False), "page": page, "hits": hits}
