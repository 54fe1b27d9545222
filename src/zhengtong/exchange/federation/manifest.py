"""The shape of an envelope's manifest, checked after its signature: a trusted peer's bug (or a compromised peer)
must not turn into a 500, a file outside the storage folder or a value the database refuses. Anything out of shape
is refused as `exchange.envelope_malformed` (permanent: the sender dead-letters it and is told why)."""
from __future__ import annotations

import re
from datetime import date

from .envelope import EnvelopeRefused

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ROLES = {"sealed_pdf", "attachment"}
EVENTS = {"delivered", "signed", "refused", "undeliverable", "recalled", "recall_refused", "recall", "urge"}
MAX_RECIPIENTS = 5000
TEXT_LIMITS = {"title": 200, "doc_kind": 4, "doc_number": 40, "urgency": 4, "classification": 4,
               "body_html": 2_000_000, "body_text": 2_000_000, "main_recipients_text": 500, "sealed_sha256": 64,
               "sealed_at": 40, "issued_date": 10}


class Malformed(EnvelopeRefused):
    pass


def _fail(what: str) -> Malformed:
    return Malformed("exchange.envelope_malformed", f"交换包清单不符合格式：{what}")


def _text(value, limit: int, what: str, *, required: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value or (required and not value.strip()):
        raise _fail(what)
    return value


def _int(value, low: int, high: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(what)
    return value


def _unit(entry, what: str) -> None:
    if not isinstance(entry, dict):
        raise _fail(what)
    _text(entry.get("code"), 18, f"{what}代码", required=True)
    _text(entry.get("name", ""), 100, f"{what}名称")
    _text(entry.get("short_name", ""), 50, f"{what}简称")
    _text(entry.get("kind", ""), 20, f"{what}类别")
    _text(entry.get("doc_code", ""), 20, f"{what}机关代字")


def _storable(name: str) -> bool:
    """A name the file storage can keep (e.g. "（）" leaves nothing once cleaned)."""
    from django.core.exceptions import SuspiciousFileOperation
    from django.core.files.storage import default_storage

    try:
        return bool(default_storage.get_valid_name(name))
    except SuspiciousFileOperation:
        return False


def check(manifest: dict) -> None:
    if not ID.match(str(manifest.get("envelope_id", ""))) or not isinstance(manifest.get("envelope_id"), str):
        raise _fail("交换包编号")
    for key in ("sender_instance", "to_instance"):
        if not ID.match(str(manifest.get(key, ""))):
            raise _fail("平台标识")
    names = set()
    for entry in manifest["files"]:
        name = entry["name"]
        if (not 0 < len(name) <= 200 or any(c in name for c in "/\\\x00") or name.startswith(".")
                or name in names or entry.get("role") not in ROLES or not _storable(name)):
            raise _fail("文件名或文件类别")
        _text(entry.get("title", ""), 200, "附件名称")
        _text(entry.get("content_type", ""), 100, "文件类型")
        names.add(name)
    if sum(entry.get("role") == "sealed_pdf" for entry in manifest["files"]) > 1:
        raise _fail("用印文件（至多一个）")
    document = manifest.get("document")
    if not isinstance(document, dict):
        raise _fail("公文信息")
    {"document": _document, "receipt": _receipts, "request": _request}[manifest["kind"]](manifest, document)


def _document(manifest: dict, document: dict) -> None:
    sender = manifest.get("sender_unit")
    _unit(sender, "发文单位")
    region = sender.get("region")
    if not isinstance(region, dict):
        raise _fail("发文单位行政区划")
    _text(region.get("code"), 12, "行政区划代码", required=True)
    _text(region.get("name", ""), 100, "行政区划名称")
    _int(region.get("level", 2), 0, 9, "行政区划层级")
    recipients = manifest.get("recipients")
    if not isinstance(recipients, list) or not 0 < len(recipients) <= MAX_RECIPIENTS:
        raise _fail("收文单位")
    codes = set()
    for entry in recipients:
        _unit(entry, "收文单位")
        if entry["code"] in codes or entry.get("kind", "main") not in ("main", "copy"):
            raise _fail("收文单位重复或主送/抄送有误")
        codes.add(entry["code"])
        _int(entry.get("copies", 1), 1, 1000, "份数")
        _int(entry.get("print_limit", 0), 0, 100_000, "限印份数")
    for key, limit in TEXT_LIMITS.items():
        _text(document.get(key, ""), limit, key)
    _text(document.get("title"), 200, "标题", required=True)
    if document.get("issued_date"):
        try:
            date.fromisoformat(document["issued_date"])
        except ValueError as exc:
            raise _fail("成文日期") from exc
    signers = document.get("signer_names", [])
    if not isinstance(signers, list) or len(signers) > 20:
        raise _fail("签发人")
    for name in signers:
        _text(name, 50, "签发人")


def _events(events, what: str) -> None:
    if not isinstance(events, list) or len(events) > MAX_RECIPIENTS:
        raise _fail(what)
    for event in events:
        if not isinstance(event, dict) or event.get("event") not in EVENTS:
            raise _fail(what)
        _text(event.get("unit"), 18, f"{what}单位", required=True)
        _text(event.get("at", ""), 40, f"{what}时间")
        _text(event.get("by", ""), 50, f"{what}人")
        _text(event.get("note", ""), 500, f"{what}说明")


def _receipts(manifest: dict, document: dict) -> None:
    batches = document.get("receipts")
    if not isinstance(batches, list) or not 0 < len(batches) <= 1000:
        raise _fail("回执")
    for batch in batches:
        if not isinstance(batch, dict) or not ID.match(str(batch.get("about", ""))):
            raise _fail("回执")
        _events(batch.get("events"), "回执")


def _request(manifest: dict, document: dict) -> None:
    if not ID.match(str(document.get("about", ""))):
        raise _fail("请求")
    _events(document.get("events"), "请求")
