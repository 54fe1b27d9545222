"""Shared kernel tables: the working-day calendar's admin-editable overrides (R8).

`core.calendar` reads the built-in State Council arrangements (chinesecalendar) and lets these rows
override them day by day. A year the built-in data does not know counts as known only after the
系统管理员 has entered its arrangement and confirmed it (CalendarYear.confirmed), so entering one
holiday never silently makes a whole year "known" (R8.2).

Rows are written by core.services only; every write bumps CalendarRevision so each process's
calendar cache notices the change.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class HolidayDate(models.Model):
    """One day whose status differs from (or confirms) the default: a holiday or a make-up working day (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "休息（节假日）"
        WORKDAY = "workday", "上班（调休）"

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    name = models.CharField("名称", max_length=50, blank=True, help_text="如：春节、国庆节")
    note = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="修改人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


class CalendarYear(models.Model):
    """A year whose arrangement the 系统管理员 has entered and confirmed as complete (R8.2)."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    confirmed = models.BooleanField("已确认", default=False)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True, help_text="如：国办发明电〔2026〕X 号")

    class Meta:
        verbose_name = verbose_name_plural = "节假日年度"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year} 年（{'已确认' if self.confirmed else '未确认'}）"


def new_token() -> str:
    return uuid.uuid4().hex


class CalendarRevision(models.Model):
    """One row (pk=1): a token that changes with every calendar edit, so caches in other processes reload."""

    token = models.CharField(max_length=32, default=new_token)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "日历版本"

    def __str__(self) -> str:
        return self.token


class SearchEntry(models.Model):
    """One searchable object (e.g. a 公文) in the full-text index: the text pre-segmented by jieba (core.search).

    PostgreSQL adds generated tsvector columns — `document` (weighted, with positions, for ranking) and `match`
    (stripped, in-row, GIN-indexed, for the @@ test, with the reader keys as extra lexemes); SQLite keeps an FTS5
    table `core_search_fts` (rowid = this row's id, a `readers` column for the keys). They are created by migrations
    0002–0005 for their backend only.
    """

    kind = models.CharField("类别", max_length=30)
    object_id = models.BigIntegerField("对象")
    unit_id = models.BigIntegerField("单位", null=True, blank=True)
    title = models.CharField("标题", max_length=300)
    number = models.CharField("文号", max_length=200, blank=True)
    snippet_source = models.TextField("摘要原文", blank=True, help_text="正文（及附件）前若干字，用于检索结果摘要")
    title_tokens = models.TextField(blank=True)
    number_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    attachment_tokens = models.TextField(blank=True)
    created_at = models.DateTimeField("时间", null=True, blank=True)
    readers = models.TextField("可读范围", blank=True, default="",
                               help_text="谁可以读：领域应用给出的读者键（如 @i12 身份、@c7 单位收发员），空格分隔")

    class Meta:
        verbose_name = verbose_name_plural = "全文索引"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
