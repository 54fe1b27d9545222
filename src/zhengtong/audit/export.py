"""Export of the auditor's current filter to .xlsx (R7.2: the 安全审计员 reads and exports the audit).

openpyxl's write-only mode streams rows to a temporary file, and records are read in seq batches,
so memory stays flat up to the cap. Above EXPORT_CAP rows the export is refused with a message
asking for a narrower filter, rather than silently cut. Every export is itself audited
(`audit.exported`, with the filter and the row count).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from zhengtong.core.crypto import canonical_json
from zhengtong.core.errors import ServiceError

from . import labels, selectors
from .services import EXPORTED_ACTION, security_event

EXPORT_CAP = 100_000
BATCH = 2000
COLUMNS = [
    ("序号", 10), ("时间", 20), ("操作人账号", 16), ("操作人姓名", 10), ("单位", 24), ("IP地址", 15), ("渠道", 8),
    ("类别", 9), ("操作", 18), ("操作代码", 24), ("对象类型", 12), ("对象ID", 10), ("对象", 24), ("结果", 6),
    ("变更", 40), ("详情", 40), ("记录哈希 (SM3)", 20), ("前一记录哈希", 20),
]


@dataclass
class ExportFile:
    file: object  # an open binary file positioned at 0; already unlinked from the file system
    filename: str
    rows: int


def _text(ws, value):
    """A cell that is always text: a value such as '=HYPERLINK(…)' typed into a login form as a
    user name must not become a formula in the auditor's spreadsheet."""
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _row(ws, rec) -> list:
    detail = canonical_json(rec.detail).decode() if rec.detail else ""
    values = [
        rec.seq, timezone.localtime(rec.time).strftime("%Y-%m-%d %H:%M:%S"), rec.actor_username, rec.actor_name,
        rec.unit_name, rec.ip, labels.CHANNEL_LABELS.get(rec.channel, rec.channel),
        labels.CATEGORY_LABELS.get(rec.category, rec.category), labels.action_label(rec.action), rec.action,
        labels.object_type_label(rec.object_type) if rec.object_type else "", rec.object_id, rec.object_repr,
        selectors.OUTCOME_LABELS.get(rec.outcome, rec.outcome), selectors.changes_text(rec), detail,
        rec.hash, rec.prev_hash,
    ]
    return [_text(ws, v) for v in values]


def export_records(user, flt: selectors.RecordFilter, *, cap: int | None = None) -> ExportFile:
    """Write the records `flt` selects, newest first, to an .xlsx file; audited."""
    cap = cap or EXPORT_CAP
    count, over = selectors.capped_count(selectors.filtered(user, flt), cap)  # checks the auditor role first
    if over:
        raise ServiceError("audit.export_too_large",
                           f"符合条件的记录超过 {cap:,} 条，无法一次导出。请缩小时间范围或增加筛选条件后分批导出。")
    now = timezone.localtime()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计记录")
    ws.freeze_panes = "A2"
    for index, (_, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    header = []
    for title, _ in COLUMNS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    written, before = 0, None
    ordered = selectors.filtered(user, flt, ordered=True).order_by("-seq")
    while written < count:
        window = ordered.filter(seq__lt=before) if before is not None else ordered
        batch = list(window[:min(BATCH, count - written)])
        if not batch:
            break
        for rec in batch:
            ws.append(_row(ws, rec))
        written += len(batch)
        before = batch[-1].seq

    about = wb.create_sheet("导出说明")
    about.append(["政通协同办公平台 · 审计记录导出"])
    about.append(["导出时间", now.strftime("%Y-%m-%d %H:%M:%S")])
    about.append(["导出人", _text(about, f"{user.get_username()}")])
    about.append(["记录数", written])
    about.append(["筛选条件", "全部记录" if not flt.as_query() else ""])
    for label, value in flt.describe():
        about.append([label, _text(about, str(value))])
    about.append(["说明", "记录哈希为 SM3(前一记录哈希 + 记录内容)，可用 manage.py verify_audit 校验整条链。"])

    handle = tempfile.TemporaryFile(suffix=".xlsx")  # unnamed: gone when closed
    wb.save(handle)
    handle.seek(0)
    with transaction.atomic():
        security_event(EXPORTED_ACTION, user=user, object_type="audit.chain", object_repr="审计记录",
                       detail={"filter": flt.as_query(), "rows": written})
    return ExportFile(file=handle, filename=f"审计记录-{now:%Y%m%d-%H%M%S}.xlsx", rows=written)
