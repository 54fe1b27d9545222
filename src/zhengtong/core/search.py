"""Full-text search behind one interface: jieba segmentation, PostgreSQL full-text (GIN) or SQLite FTS5.

    index(kind, object_id, unit_id=, title=, number=, body=, attachments=, created_at=)   # upsert, caller's transaction
    remove(kind, object_id)
    search(q, kinds=[...], allowed=<QuerySet of object ids the caller may read>, limit=20, offset=0) -> SearchPage

Text is segmented once, when indexed, with jieba's search mode (words and their sub-words: 安全生产 → 安全, 生产,
安全生产), and stored as space-separated tokens; the database's own tokenizer then only splits on spaces
(PostgreSQL 'simple', FTS5 unicode61). A query is segmented the same way and every token must match (AND).
`allowed` is applied inside the same SQL, so a row the caller may not read is never counted or returned.

Queries of one or two characters that jieba keeps as one token still match longer words only if those words were
split to them at index time; for single characters (e.g. "电") the index holds no token at all, so those fall back
to a substring match on titles and numbers (bounded). docs/search-notes.md has the measurements.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from zhengtong.core.errors import ServiceError

log = logging.getLogger(__name__)
TOKEN = re.compile(r"[0-9a-z]+|[\u3400-\u9fff\uf900-\ufaff]+", re.I)
MAX_QUERY = 100
MAX_TERMS = 12
COUNT_CAP = 10_000
SNIPPET_SOURCE = 4_000  # characters of body + attachments kept for snippets
SNIPPET = 120


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    score: float
    title_html: str
    number_html: str
    snippet_html: str


@dataclass
class SearchPage:
    total: int
    hits: list[Hit] = field(default_factory=list)
    total_capped: bool = False
    terms: list[str] = field(default_factory=list)


def _jieba():
    import jieba

    if not getattr(_jieba, "ready", False):
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba.ready = True
    return jieba


def tokens(text: str) -> list[str]:
    """jieba search-mode tokens: words, their sub-words, digit and Latin runs (lower case); punctuation dropped."""
    if not text:
        return []
    out = []
    for word in _jieba().cut_for_search(text):
        for part in TOKEN.findall(word.lower()):
            out.append(part)
    return out


def _joined(text: str) -> str:
    return " ".join(tokens(text))


def index(kind: str, object_id: int, *, unit_id: int | None, title: str, number: str = "", body: str = "",
          attachments: str = "", created_at: datetime | None = None) -> None:
    from zhengtong.core.models import SearchEntry

    values = dict(unit_id=unit_id, title=title[:300], number=number[:200],
                  snippet_source=(body or "")[:SNIPPET_SOURCE] + ("\n" + attachments[:SNIPPET_SOURCE] if attachments
                                                                  else ""),
                  title_tokens=_joined(title), number_tokens=_joined(number), body_tokens=_joined(body),
                  attachment_tokens=_joined(attachments), created_at=created_at)
    entry, _ = SearchEntry.objects.update_or_create(kind=kind, object_id=object_id, defaults=values)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_search_fts WHERE rowid = %s", [entry.pk])
            cursor.execute("INSERT INTO core_search_fts (rowid, title, number, body, attachments) "
                           "VALUES (%s, %s, %s, %s, %s)", [entry.pk, values["title_tokens"], values["number_tokens"],
                                                           values["body_tokens"], values["attachment_tokens"]])


def remove(kind: str, object_id: int) -> None:
    from zhengtong.core.models import SearchEntry

    for pk in SearchEntry.objects.filter(kind=kind, object_id=object_id).values_list("pk", flat=True):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM core_search_fts WHERE rowid = %s", [pk])
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


def query_terms(q: str) -> list[str]:
    q = (q or "").strip()
    if not q:
        raise ServiceError("search.invalid_query", "请输入检索词")
    if len(q) > MAX_QUERY:
        raise ServiceError("search.invalid_query", f"检索词不能超过 {MAX_QUERY} 个字")
    terms: list[str] = []
    for chunk in q.split():
        parts = TOKEN.findall(chunk.lower())
        for part in parts:
            for word in _jieba().cut(part, HMM=False):
                if word not in terms:
                    terms.append(word)
    if not terms:
        raise ServiceError("search.invalid_query", "检索词中没有可检索的文字或数字")
    return terms[:MAX_TERMS]


def _allowed_sql(allowed) -> tuple[str, list]:
    if allowed is None:
        return "", []
    sql, params = allowed.query.sql_with_params()
    return f" AND e.object_id IN ({sql})", list(params)


def search(q: str, *, kinds: list[str], allowed=None, limit: int = 20, offset: int = 0) -> SearchPage:
    terms = query_terms(q)
    limit, offset = max(1, min(int(limit), 100)), max(0, min(int(offset), 10_000))
    allowed_sql, allowed_params = _allowed_sql(allowed)
    kinds_sql = ", ".join(["%s"] * len(kinds))
    # a single character is a token only where jieba left it alone (电 in 电力 is not): required with longer terms it
    # would lose matches, so it is dropped; a query of single characters only matches titles and numbers by substring
    words = [t for t in terms if len(t) > 1 or t.isascii()]
    short = not words
    terms = terms if short else words
    if short:
        where = " AND ".join(["(e.title LIKE %s OR e.number LIKE %s)"] * len(terms))
        like = [p for t in terms for p in (f"%{t}%", f"%{t}%")]
        base = f"FROM core_searchentry e WHERE e.kind IN ({kinds_sql}) AND {where}{allowed_sql}"
        params = [*kinds, *like, *allowed_params]
        select = f"SELECT e.id, 1.0 AS score {base} ORDER BY e.created_at DESC, e.id DESC"
    elif connection.vendor == "postgresql":
        tsquery = " & ".join(terms)  # terms hold only letters, digits and CJK (TOKEN): nothing to escape
        base = (f"FROM core_searchentry e WHERE e.kind IN ({kinds_sql}) "
                f"AND e.document @@ to_tsquery('simple', %s){allowed_sql}")
        params = [*kinds, tsquery, *allowed_params]
        select = (f"SELECT e.id, ts_rank_cd(e.document, to_tsquery('simple', %s)) AS score {base} "
                  "ORDER BY score DESC, e.created_at DESC NULLS LAST, e.id DESC")
        params = [tsquery, *params]
    else:
        match = " AND ".join(f'"{t}"' for t in terms)
        base = (f"FROM core_search_fts f JOIN core_searchentry e ON e.id = f.rowid WHERE core_search_fts MATCH %s "
                f"AND e.kind IN ({kinds_sql}){allowed_sql}")
        params = [match, *kinds, *allowed_params]
        select = (f"SELECT e.id, -bm25(core_search_fts, 10.0, 10.0, 2.0, 1.0) AS score {base} "
                  "ORDER BY score DESC, e.created_at DESC, e.id DESC")
    count_params = params[1:] if connection.vendor == "postgresql" and not short else params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 {base} LIMIT {COUNT_CAP + 1}) capped", count_params)
        total = cursor.fetchone()[0]
        cursor.execute(f"{select} LIMIT %s OFFSET %s", [*params, limit, offset])
        rows = cursor.fetchall()
    return SearchPage(total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP, terms=terms,
                      hits=_hits(rows, terms))


def _hits(rows, terms: list[str]) -> list[Hit]:
    from zhengtong.core.models import SearchEntry

    entries = SearchEntry.objects.in_bulk([r[0] for r in rows])
    hits = []
    for pk, score in rows:
        e = entries.get(pk)
        if e is not None:
            hits.append(Hit(kind=e.kind, object_id=e.object_id, score=float(score), title_html=highlight(e.title, terms),
                            number_html=highlight(e.number, terms), snippet_html=snippet(e.snippet_source, terms)))
    return hits


def highlight(text: str, terms: list[str]) -> str:
    """Escaped text with <mark> around each occurrence of a term (longest first, case-insensitive)."""
    if not text:
        return ""
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    if not ordered:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.I)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("</mark><mark>", "")  # adjacent terms read as one match


def snippet(text: str, terms: list[str]) -> str:
    """About SNIPPET characters around the first match (the opening when none), highlighted."""
    if not text:
        return ""
    lowered = text.lower()
    found = [lowered.find(t) for t in terms if t and lowered.find(t) >= 0]
    at = min(found) if found else 0
    start = max(0, at - SNIPPET // 3)
    piece = text[start:start + SNIPPET].replace("\n", " ")
    return ("…" if start else "") + highlight(piece, terms) + ("…" if start + SNIPPET < len(text) else "")


def reindex_all(kind: str, rows) -> int:
    """Bulk (re)build for one kind from (object_id, unit_id, title, number, body, attachments, created_at) tuples."""
    count = 0
    for object_id, unit_id, title, number, body, attachments, created_at in rows:
        index(kind, object_id, unit_id=unit_id, title=title, number=number, body=body, attachments=attachments,
              created_at=created_at)
        count += 1
    return count
