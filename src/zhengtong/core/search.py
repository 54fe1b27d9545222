"""Full-text search behind one interface: jieba segmentation, PostgreSQL full-text (GIN) or SQLite FTS5.

    index(kind, object_id, unit_id=, title=, number=, body=, attachments=, created_at=, readers=[keys])  # upsert
    set_readers(kind, object_id, readers)                   # the reader keys alone (who may read changed)
    remove(kind, object_id)
    search(q, kinds=[...], allowed=<QuerySet of object ids the caller may read>, readers=<the caller's keys>,
           limit=20, offset=0) -> SearchPage

Text is segmented once, when indexed, with jieba's search mode (words and their sub-words: 安全生产 → 安全, 生产,
安全生产), and stored as space-separated tokens; the database's own tokenizer then only splits on spaces
(PostgreSQL 'simple', FTS5 unicode61). A query is segmented the same way and every token must match (AND).
`allowed` is applied inside the same SQL, so a row the caller may not read is never counted or returned.

Reader keys make that fast at a million rows: the domain app stores with each entry opaque keys naming who may
read it (documents: "i<identity>" for participants, "c<unit>" for a unit's 收发员) and passes the caller's keys to
search(). PostgreSQL keeps them as extra lexemes ("@i12") in the GIN-indexed `match`, so the words and the keys
are intersected inside the index instead of probing the readable set row by row; SQLite keeps them in an FTS5
column. The keys only narrow: `allowed` stays the exact rule, so a stale key can hide nothing and show nothing.

PostgreSQL tests `match` (stripped tsvector, in-row, GIN) and ranks the matches with `document` (weighted, with
positions) by ts_rank_cd; SQLite uses FTS5 MATCH and bm25 with column weights. Past COUNT_CAP matches the page is
newest first instead of ranked.

Two-character queries reach full recall through search mode's sub-words; single characters (e.g. "电") are no token
inside a word, so a query of single characters only is a substring match on titles and numbers.
docs/search-notes.md has the design and docs/PERFORMANCE.md the measurements.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection

from zhengtong.core.errors import ServiceError

log = logging.getLogger(__name__)
TOKEN = re.compile(r"[0-9a-z]+|[\u3400-\u9fff\uf900-\ufaff]+", re.I)
READER_KEY = re.compile(r"[a-z0-9]{1,40}")
MAX_READER_KEYS = 200  # of one caller: identities and clerk units, a handful in practice
MAX_QUERY = 100
MAX_TERMS = 12
COUNT_CAP = 1_000  # matches counted and ranked; past it the total reads "1000+" and the newest come first
MONTH_WINDOWS = (3, 12, 36, None)  # months (besides a year ahead) per try of _newest_by_month; None: all
BUCKET_TZ = ZoneInfo("Asia/Shanghai")  # the month lexemes' calendar (migration 0005 uses the same zone)
SNIPPET_SOURCE = 4_000  # characters of body + attachments kept for snippets
SNIPPET = 120
# characters of the body and of the attachments' text that are indexed: PostgreSQL refuses a tsvector over 1 MB, and
# 50,000 characters of the most varied Chinese (random dictionary words) make 0.38 MB; a 公文 body is far shorter
INDEX_TEXT = 50_000
# newest first, as the index core_search_recent (migration 0003) runs on PostgreSQL (SQLite sorts NULL last in DESC)
RECENT_ORDER = {"postgresql": "e.created_at DESC NULLS LAST, e.id DESC", "sqlite": "e.created_at DESC, e.id DESC"}
BM25_WEIGHTS = "10.0, 10.0, 2.0, 1.0, 0.0"  # title, number, body, attachments, readers (FTS5 column order)


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


def entry_fields(*, title: str, number: str = "", body: str = "", attachments: str = "") -> dict:
    """The stored columns of one entry: the original text kept for display and snippets, and the jieba tokens."""
    body, attachments = body or "", attachments or ""
    return dict(title=(title or "")[:300], number=(number or "")[:200],
                snippet_source=body[:SNIPPET_SOURCE] + ("\n" + attachments[:SNIPPET_SOURCE] if attachments else ""),
                title_tokens=_joined(title), number_tokens=_joined(number), body_tokens=_joined(body[:INDEX_TEXT]),
                attachment_tokens=_joined(attachments[:INDEX_TEXT]))


def readers_text(keys) -> str:
    """The stored form of reader keys: "@key" each (a lexeme no jieba token can be: tokens are letters, digits
    and CJK only), sorted, space separated."""
    keys = set(keys or ())
    bad = [k for k in keys if not isinstance(k, str) or not READER_KEY.fullmatch(k)]
    if bad:
        raise ValueError(f"reader keys are 1–40 lower-case letters or digits: {bad[:3]!r}")
    return " ".join(f"@{k}" for k in sorted(keys))


def index(kind: str, object_id: int, *, unit_id: int | None, title: str, number: str = "", body: str = "",
          attachments: str = "", created_at: datetime | None = None, readers=(), new: bool = False) -> None:
    """Index (or re-index) one object in the caller's transaction. `new`: the object was created in this
    transaction, so it has no entry yet (an insert, no look-up)."""
    from zhengtong.core.models import SearchEntry

    values = dict(entry_fields(title=title, number=number, body=body, attachments=attachments), unit_id=unit_id,
                  created_at=created_at, readers=readers_text(readers))
    if new:
        entry = SearchEntry.objects.create(kind=kind, object_id=object_id, **values)
    else:
        entry, _ = SearchEntry.objects.update_or_create(kind=kind, object_id=object_id, defaults=values)
    if connection.vendor == "sqlite":
        _fts_replace([(entry.pk, values)])  # delete first even when new: FTS rows outlive a flush of the table


def set_readers(kind: str, object_id: int, readers) -> None:
    """Replace the reader keys of an entry (no-op when it is not indexed), in the caller's transaction."""
    from zhengtong.core.models import SearchEntry

    text = readers_text(readers)
    entry = SearchEntry.objects.filter(kind=kind, object_id=object_id).only("pk", "readers").first()
    if entry is None or entry.readers == text:
        return
    SearchEntry.objects.filter(pk=entry.pk).update(readers=text)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_search_fts SET readers = %s WHERE rowid = %s", [text, entry.pk])


def _fts_replace(entries) -> None:
    """SQLite: (re)write the FTS5 rows of (entry id, columns) pairs; rowid is the entry's id."""
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM core_search_fts WHERE rowid = %s", [(pk,) for pk, _ in entries])
        cursor.executemany("INSERT INTO core_search_fts (rowid, title, number, body, attachments, readers) "
                           "VALUES (%s, %s, %s, %s, %s, %s)",
                           [(pk, v["title_tokens"], v["number_tokens"], v["body_tokens"], v["attachment_tokens"],
                             v.get("readers", "")) for pk, v in entries])


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
        for part in TOKEN.findall(chunk.lower()):
            for word in _jieba().cut(part):  # HMM on, as cut_for_search at index time (河长制 stays one word)
                for term in _finest(word):
                    if term not in terms:
                        terms.append(term)
    if not terms:
        raise ServiceError("search.invalid_query", "检索词中没有可检索的文字或数字")
    return terms[:MAX_TERMS]


def _finest(word: str) -> list[str]:
    """A query word as the sub-words search mode emits for it when they cover it (食品安全 → 食品, 安全): the text
    around a word can change how it is segmented, but its sub-words are emitted either way."""
    subs = [s for s in _jieba().cut_for_search(word) if s != word and len(s) > 1]
    covered = set()
    for sub in subs:
        start = word.find(sub)
        while start >= 0:
            covered.update(range(start, start + len(sub)))
            start = word.find(sub, start + 1)
    return subs if subs and len(covered) == len(word) else [word]


def _allowed_sql(allowed) -> tuple[str, list]:
    if allowed is None:
        return "", []
    from django.core.exceptions import EmptyResultSet

    try:
        sql, params = allowed.query.sql_with_params()
    except EmptyResultSet:  # e.g. QuerySet.none() or pk__in=[]: the caller may read nothing
        return " AND 1 = 0", []
    if connection.vendor == "postgresql":
        # evaluated once (an InitPlan) and probed through the (kind, object_id) index: with `IN (subquery)` the planner
        # guessed the readable set's size badly and hashed a million-row scan of it for some words (25 s, measured)
        return f" AND e.object_id = ANY(ARRAY({sql}))", list(params)
    return f" AND e.object_id IN ({sql})", list(params)


@dataclass
class _Plan:
    terms: list[str]
    base: str  # FROM … WHERE …: the matching rows the caller may read
    params: list
    score: str
    score_params: list
    order: str


def _readers_sql(readers) -> tuple[str, str]:
    """The caller's reader keys as (PostgreSQL tsquery literal, SQLite FTS5 expression)."""
    keys = sorted(set(readers))[:MAX_READER_KEYS]
    if any(not isinstance(k, str) or not READER_KEY.fullmatch(k) for k in keys):
        raise ValueError("reader keys are 1–40 lower-case letters or digits")
    # keys are [a-z0-9] only (checked above): nothing to escape in either syntax
    return " | ".join(f"'@{k}'" for k in keys), "readers : (" + " OR ".join(f'"{k}"' for k in keys) + ")"


def _plan(q: str, kinds: list[str], allowed, readers=None) -> _Plan:
    terms = query_terms(q)
    allowed_sql, allowed_params = _allowed_sql(allowed)
    kinds_sql = ", ".join(["%s"] * len(kinds)) or "NULL"
    pg = connection.vendor == "postgresql"
    keys_tsquery = keys_fts = None
    if readers is not None:
        if not list(readers):
            allowed_sql, allowed_params = " AND 1 = 0", []  # the caller holds no key: nothing is readable
        else:
            keys_tsquery, keys_fts = _readers_sql(readers)
    # a single character is a token only where jieba left it alone (电 in 电力 is not): required with longer terms it
    # would lose matches, so it is dropped; a query of single characters only matches titles and numbers by substring
    words = [t for t in terms if len(t) > 1 or t.isascii()]
    if not words:
        # the query's runs of characters as typed (示 教 → 示, 教; 函 → 函): TOKEN leaves no LIKE wildcard in them
        terms = list(dict.fromkeys(TOKEN.findall(q.lower())))[:MAX_TERMS]
        where = " AND ".join(["(e.title LIKE %s OR e.number LIKE %s)"] * len(terms))
        like = [p for t in terms for p in (f"%{t}%", f"%{t}%")]
        keys_sql, keys_params = "", []
        if keys_tsquery and pg:
            keys_sql, keys_params = " AND e.match @@ %s::tsquery", [keys_tsquery]
        elif keys_fts:
            keys_sql = " AND e.id IN (SELECT rowid FROM core_search_fts WHERE core_search_fts MATCH %s)"
            keys_params = [keys_fts]
        return _Plan(terms, f"FROM core_searchentry e WHERE e.kind IN ({kinds_sql}) AND {where}{keys_sql}"
                            f"{allowed_sql}",
                     [*kinds, *like, *keys_params, *allowed_params], "1.0", [], "e.created_at DESC, e.id DESC")
    if pg:
        tsquery = " & ".join(words)  # terms hold only letters, digits and CJK (TOKEN): nothing to escape
        # one tsquery with the words and the keys: GIN intersects them inside the index (rarest posting list first)
        condition = ("e.match @@ (to_tsquery('simple', %s) && %s::tsquery)" if keys_tsquery
                     else "e.match @@ to_tsquery('simple', %s)")
        return _Plan(words, f"FROM core_searchentry e WHERE e.kind IN ({kinds_sql}) AND {condition}{allowed_sql}",
                     [*kinds, tsquery, *([keys_tsquery] if keys_tsquery else []), *allowed_params],
                     "ts_rank_cd(e.document, to_tsquery('simple', %s))", [tsquery],
                     "score DESC, e.created_at DESC NULLS LAST, e.id DESC")
    # the words in the text columns only (the readers column holds keys, not words)
    match = "{title number body attachments} : (" + " AND ".join(f'"{t}"' for t in words) + ")"
    if keys_fts:
        match += " AND " + keys_fts
    return _Plan(words, f"FROM core_search_fts f JOIN core_searchentry e ON e.id = f.rowid "
                        f"WHERE core_search_fts MATCH %s AND e.kind IN ({kinds_sql}){allowed_sql}",
                 [match, *kinds, *allowed_params], f"-bm25(core_search_fts, {BM25_WEIGHTS})", [],
                 "score DESC, e.created_at DESC, e.id DESC")


def search(q: str, *, kinds: list[str], allowed=None, readers=None, limit: int = 20, offset: int = 0) -> SearchPage:
    """One page of matches. With `readers`, the matches are what the keys let through (counted, ranked, paged inside
    the index) and `allowed` is checked on the page's rows; without, `allowed` is part of the SQL."""
    exact_on_page = readers is not None and allowed is not None
    plan = _plan(q, kinds, None if exact_on_page else allowed, readers)
    limit, offset = max(1, min(int(limit), 100)), max(0, min(int(offset), 10_000))
    with connection.cursor() as cursor:
        # counting visits each match's row once (PostgreSQL reads the heap for every bitmap match): capped, so a
        # very common word costs COUNT_CAP row visits, not one per match
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 {plan.base} LIMIT {COUNT_CAP + 1}) capped", plan.params)
        total = cursor.fetchone()[0]
        if total == 0 or (total <= COUNT_CAP and offset >= total):
            rows = []
        elif total <= COUNT_CAP:
            order = plan.order.replace("e.", "m.")
            cursor.execute(f"SELECT m.id, m.score FROM (SELECT e.id, e.created_at, {plan.score} AS score "
                           f"{plan.base}) m ORDER BY {order} LIMIT %s OFFSET %s",
                           [*plan.score_params, *plan.params, limit, offset])
            rows = cursor.fetchall()
        elif connection.vendor == "postgresql" and readers:
            rows = _newest_by_month(cursor, plan, limit, offset)
        else:
            # more than COUNT_CAP matches: ranking them all costs seconds at a million rows, so the newest come first
            # (an index walk that stops after the page); a narrower query brings ranking back
            cursor.execute(f"SELECT e.id, 0.0 AS score {plan.base} ORDER BY {RECENT_ORDER[connection.vendor]} "
                           "LIMIT %s OFFSET %s", [*plan.params, limit, offset])
            rows = cursor.fetchall()
    if exact_on_page and rows:
        rows = _only_allowed(rows, allowed)
    return SearchPage(total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP, terms=plan.terms,
                      hits=_hits(rows, plan.terms))


def month_key(moment: datetime | None) -> str:
    """The month lexeme PostgreSQL's `match` carries for an entry (migration 0005): "#m202611" in China time."""
    if moment is None:
        return "#m0"
    local = moment.astimezone(BUCKET_TZ) if moment.tzinfo else moment
    return f"#m{local.year * 100 + local.month}"


def _newest_by_month(cursor, plan: _Plan, limit: int, offset: int) -> list[tuple]:
    """Newest first among more than COUNT_CAP matches without visiting them all: the month lexemes in `match` let
    the index return only the matches of the newest months; the window widens until it holds the page. Every match
    outside a window is older than every match inside it (months partition time), so the order is exact."""
    need = offset + limit
    now = datetime.now(BUCKET_TZ)
    newest = now.year * 12 + now.month - 1 + 12  # a year ahead: a clock set wrong must not hide a document
    for span in MONTH_WINDOWS:
        if span is None:
            window, params = "", []
        else:
            months = [f"'#m{(m // 12) * 100 + m % 12 + 1}'" for m in range(newest, newest - 12 - span, -1)]
            window, params = " AND e.match @@ %s::tsquery", [" | ".join(months)]
        cursor.execute(f"SELECT e.id, 0.0, count(*) OVER () {plan.base}{window} "
                       f"ORDER BY {RECENT_ORDER['postgresql']} LIMIT %s OFFSET %s",
                       [*plan.params, *params, limit, offset])
        rows = cursor.fetchall()
        if span is None or (rows and rows[0][2] >= need):
            return [(r[0], r[1]) for r in rows]
    return []


def _only_allowed(rows: list[tuple], allowed) -> list[tuple]:
    """The page's rows the exact rule lets through. The reader keys are kept in step with it in the same
    transaction as every change, so a row dropped here means they were not: logged, never shown."""
    from django.core.exceptions import EmptyResultSet

    from zhengtong.core.models import SearchEntry

    objects = dict(SearchEntry.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "object_id"))
    try:
        sql, params = allowed.query.sql_with_params()
    except EmptyResultSet:
        ok = set()
    else:
        ids = sorted(set(objects.values()))
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:  # the filter reaches every branch of a UNION: index probes, not a scan
            cursor.execute(f"WITH a(v) AS ({sql}) SELECT v FROM a WHERE v IN ({marks})", [*params, *ids])
            ok = {row[0] for row in cursor.fetchall()}
    stale = [objects.get(r[0]) for r in rows if objects.get(r[0]) not in ok]
    if stale:
        log.warning("search: reader keys out of step with the readable set for objects %s", stale)
    return [r for r in rows if objects.get(r[0]) in ok]


def matching_ids(q: str, *, kinds: list[str], allowed=None, readers=None) -> set[int]:
    """Every object id search() would page through for q (no cap, no order): for recall measurements and tests."""
    plan = _plan(q, kinds, allowed, readers)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT e.object_id {plan.base}", plan.params)
        return {row[0] for row in cursor.fetchall()}


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


def reindex_all(kind: str, rows, *, batch: int = 500) -> int:
    """Bulk (re)build for one kind from (object_id, unit_id, title, number, body, attachments, created_at, readers)
    tuples (readers: the entry's reader keys, as index() takes them):
    per batch, the old entries of those objects are deleted and the new ones inserted in one statement each
    (rather than one upsert per row). Run it in the caller's transaction or let each batch commit on its own."""
    from django.db import transaction

    from zhengtong.core.models import SearchEntry

    count = 0
    chunk: list = []

    def flush():
        with transaction.atomic():
            ids = [r[0] for r in chunk]
            old = list(SearchEntry.objects.filter(kind=kind, object_id__in=ids).values_list("pk", flat=True))
            if old and connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.executemany("DELETE FROM core_search_fts WHERE rowid = %s", [(pk,) for pk in old])
            SearchEntry.objects.filter(pk__in=old).delete()
            entries = SearchEntry.objects.bulk_create([
                SearchEntry(kind=kind, object_id=object_id, unit_id=unit_id, created_at=created_at,
                            readers=readers_text(readers),
                            **entry_fields(title=title, number=number, body=body, attachments=attachments))
                for object_id, unit_id, title, number, body, attachments, created_at, readers in chunk])
            if connection.vendor == "sqlite":
                _fts_replace([(e.pk, e.__dict__) for e in entries])

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            flush()
            count += len(chunk)
            chunk = []
    if chunk:
        flush()
        count += len(chunk)
    return count
