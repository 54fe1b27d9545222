"""Process definitions: one row per version of a BPMN definition, bound to a unit (or the platform) and a business type.

A row is immutable once saved except for its status: a running instance (next session) points at the row
it started with (`ProcessInstance.definition → ProcessDefinition`, on_delete=PROTECT), so an
activation never changes the flow of work already under way.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class BusinessType(models.TextChoices):
    """Extensible: later 督办, 信息报送, 审批… (no database check constraint, so adding one needs no migration of data)."""

    DISPATCH = "dispatch", "发文"
    RECEIPT = "receipt", "收文"
    SIGN_REPORT = "sign_report", "签报"


class ProcessDefinition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "启用"
        RETIRED = "retired", "已停用"

    business_type = models.CharField("业务类型", max_length=30, choices=BusinessType.choices)
    unit = models.ForeignKey("org.Unit", verbose_name="所属单位", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="process_definitions", help_text="为空表示平台默认流程")
    key = models.CharField("流程标识", max_length=100, help_text="BPMN 流程的 id")
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=100)
    bpmn_xml = models.TextField("BPMN 定义")
    sm3 = models.CharField("SM3 摘要", max_length=64)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    activated_at = models.DateTimeField("启用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "流程定义"
        ordering = ["business_type", "unit_id", "key", "-version"]
        # NULL unit = platform default: NULLs are distinct in unique indexes, so each rule is stated twice.
        constraints = [
            models.UniqueConstraint(fields=["unit", "business_type", "key", "version"], condition=Q(unit__isnull=False),
                                    name="flow_def_version_unique_in_unit"),
            models.UniqueConstraint(fields=["business_type", "key", "version"], condition=Q(unit__isnull=True),
                                    name="flow_def_version_unique_platform"),
            models.UniqueConstraint(fields=["unit", "business_type"], condition=Q(status="active", unit__isnull=False),
                                    name="flow_def_one_active_per_unit"),
            models.UniqueConstraint(fields=["business_type"], condition=Q(status="active", unit__isnull=True),
                                    name="flow_def_one_active_platform"),
        ]
        indexes = [models.Index(fields=["business_type", "status"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
