"""Append-only, SM3 hash-chained audit records (R7.1, R7.3)."""
from __future__ import annotations

from django.db import models


class AuditRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计记录不可修改")

    def delete(self):
        raise PermissionError("审计记录不可删除（过期记录只能由 purge_audit 命令清理）")


class AuditRecord(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    seq = models.BigIntegerField("序号", unique=True)
    time = models.DateTimeField("时间", db_index=True)
    actor_id = models.BigIntegerField("操作人账号ID", null=True, blank=True, db_index=True)
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    actor_name = models.CharField("操作人姓名", max_length=50, blank=True)
    identity_id = models.BigIntegerField("身份ID", null=True, blank=True)
    unit_id = models.BigIntegerField("单位ID", null=True, blank=True)
    unit_name = models.CharField("单位", max_length=100, blank=True)
    ip = models.CharField("IP地址", max_length=45, blank=True)
    channel = models.CharField("渠道", max_length=10, blank=True)
    action = models.CharField("操作", max_length=80, db_index=True)
    category = models.CharField("类别", max_length=20, default="business",
                                help_text="security = 安全事件；business = 业务操作")
    object_type = models.CharField("对象类型", max_length=80, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    changes = models.JSONField("变更", default=dict, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("前一记录哈希", max_length=64)
    hash = models.CharField("记录哈希 (SM3)", max_length=64)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "审计记录"
        ordering = ["-seq"]
        # The auditor's console lists newest first (ORDER BY seq DESC) under one filter at a time; an
        # index ending in seq serves "filter, then the next page before seq N" without sorting.
        indexes = [
            models.Index(fields=["actor_username", "seq"], name="audit_actor_seq_idx"),
            models.Index(fields=["actor_name", "seq"], name="audit_actor_name_seq_idx"),
            models.Index(fields=["unit_id", "seq"], name="audit_unit_seq_idx"),
            models.Index(fields=["action", "seq"], name="audit_action_seq_idx"),
            models.Index(fields=["outcome", "seq"], name="audit_outcome_seq_idx"),
            models.Index(fields=["category", "seq"], name="audit_category_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_username}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("审计记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录不可删除")


class AuditChainHead(models.Model):
    """The last record's seq and hash; locked while appending so the chain has one writer at a time."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"
