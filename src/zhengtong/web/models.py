"""Notices (通知公告) shown on the workspace home."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Notice(models.Model):
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    unit = models.ForeignKey("org.Unit", verbose_name="发布单位", on_delete=models.CASCADE, related_name="notices")
    platform_wide = models.BooleanField("全市可见", default=False,
                                        help_text="否：仅发布单位及其下级单位可见")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, on_delete=models.SET_NULL,
                               related_name="+")
    published_at = models.DateTimeField("发布时间", db_index=True)
    pinned = models.BooleanField("置顶", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "通知公告"
        ordering = ["-pinned", "-published_at"]

    def __str__(self) -> str:
        return self.title
