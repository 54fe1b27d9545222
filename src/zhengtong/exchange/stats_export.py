"""收发统计 as .xlsx: the period in the title, one row per unit, a 合计 row, the definitions on a second sheet.

Numbers stay numbers (hours with two decimals, shares as percentages) so the sheet can be sorted and summed; a
figure that does not exist (no 签收 yet) is an empty cell. Every export is audited (`exchange.statistics_exported`).
"""
from __future__ import annotations

import io
from urllib.parse import quote

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from zhengtong.audit.services import record

from .stats import POINTS_LATE, POINTS_ON_TIME, POINTS_SAME_DAY, Figures, Report

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 3  # title, notes, then the header
HOURS, SHARE, SCORE = "0.00", "0.0%", "0.0"


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def columns(limit_hours: float) -> list[tuple[str, int, str | None]]:
    """(header, width, number format) in order."""
    limit = f"{limit_hours:g}"
    return [
        ("单位", 34, None), ("发文（件）", 10, None), ("发出（份）", 10, None), ("被退文（份）", 12, None),
        ("撤回（份）", 10, None), ("收文（份）", 10, None), ("已签收", 9, None), ("待签收", 9, None),
        ("退文", 8, None), ("签收用时中位数（工作小时）", 16, HOURS), ("签收用时P90（工作小时）", 16, HOURS),
        (f"{limit}个工作小时内签收", 14, None), ("及时签收率", 11, SHARE), ("超时（份）", 10, None),
        ("及时性得分", 11, SCORE),
    ]


def _values(figures: Figures) -> list:
    f = figures
    return [f.sent_documents, f.sent, f.sent_refused, f.sent_recalled, f.received, f.signed, f.pending, f.refused,
            _hours(f.minutes("median")), _hours(f.minutes("p90")), f.on_time, f.on_time_share, f.overdue, f.score]


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def workbook(report: Report) -> Workbook:
    cols = columns(report.limit_hours)
    book = Workbook()
    sheet = book.active
    sheet.title = "收发统计"
    last = get_column_letter(len(cols))
    sheet["A1"] = f"公文交换收发统计（{report.period.label()}）"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A1:{last}1")
    generated = timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")
    sheet["A2"] = (f"按送达时间统计，状态截至 {generated}；工作时间 {report.office_hours}（法定节假日、休息日不计，"
                   f"调休上班日计入）；签收时限 {report.limit_hours:g} 个工作小时。口径与得分方法见“说明”页。")
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(f"A2:{last}2")
    sheet.row_dimensions[2].height = 32

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    for index, (title, width, _) in enumerate(cols, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=title)
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[HEADER_ROW].height = 32
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)

    def write(row: int, name: str, figures: Figures, *, bold: bool = False) -> None:
        for index, value in enumerate([_text(name), *_values(figures)], start=1):
            cell = sheet.cell(row=row, column=index, value=value)
            cell.border = border
            if cols[index - 1][2]:
                cell.number_format = cols[index - 1][2]
            if bold:
                cell.font = Font(bold=True)
        sheet.cell(row=row, column=1).data_type = "s"  # a unit named "=…" stays text, never a formula

    row = HEADER_ROW + 1
    for unit_row in report.rows:
        write(row, unit_row.unit.name, unit_row.figures)
        row += 1
    write(row, "合计", report.total, bold=True)

    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 90
    for item in _definitions(report):
        notes.append([_text(part) for part in item])
    for cell in notes["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return book


def _definitions(report: Report) -> list[tuple[str, str]]:
    limit = f"{report.limit_hours:g}"
    return [
        ("统计期间", report.period.label()),
        ("统计口径", "按送达时间归入统计期间，各项状态截至导出时间；已撤回的交换件不计入收文。"),
        ("工作时间", f"{report.office_hours}，仅计工作日（含调休上班日），夜间、休息日和法定节假日不计。"),
        ("发文（件）/发出（份）", "本单位核发的公文件数 / 送达各收文单位的份数（含重发）。"),
        ("被退文、撤回", "本单位发出后被收文单位退文的份数；本单位在签收前撤回的份数。"),
        ("收文、已签收、待签收、退文", "送达本单位的份数（不含撤回）及其中已签收、仍待签收、本单位退文的份数。"),
        ("签收用时", "自送达至签收的工作时间；中位数，以及P90（至少九成已签收文件不超过的用时）。"),
        ("及时签收率", f"{limit}个工作小时内签收的份数 ÷ 已考核份数；已考核 = 已签收 + 超过时限仍未签收。"),
        ("超时", f"签收用时超过{limit}个工作小时的份数 + 现已超过{limit}个工作小时仍未签收的份数。"),
        ("及时性得分", f"100 × 各份得分之和 ÷ 已考核份数：{limit}个工作小时内签收 {POINTS_ON_TIME:g} 分，"
                    f"1个工作日内签收 {POINTS_SAME_DAY:g} 分，更晚签收 {POINTS_LATE:g} 分，超时未签收 0 分；"
                    "无考核份数时不评分。"),
        ("生成时间", timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M:%S")),
    ]


def export(user, report: Report) -> tuple[bytes, str]:
    """The workbook's bytes and its file name; the export is audited."""
    buffer = io.BytesIO()
    workbook(report).save(buffer)
    record("exchange.statistics_exported", user=user, object_type="exchange.statistics",
           object_repr=f"收发统计（{report.period.label()}）",
           detail={"from": report.period.start.isoformat(), "to": report.period.end.isoformat(),
                   "units": [row.unit.pk for row in report.rows][:500], "unit_count": len(report.rows)})
    return buffer.getvalue(), f"收发统计-{report.period.start:%Y%m%d}-{report.period.last_day:%Y%m%d}.xlsx"


def content_disposition(filename: str) -> str:
    return f"attachment; filename=\"statistics.xlsx\"; filename*=UTF-8''{quote(filename)}"
