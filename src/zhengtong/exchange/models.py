"""公文交换 inside one instance (issue #5 §1): a delivery per recipient unit of a 核发, its receipts, the 交换箱.

A `Delivery` is written in the transaction of 核发 (documents.services.outgoing sends `dispatch_recorded` inside
it), so a dispatched document always reaches every recipient's 交换箱 or the 核发 did not happen. The recipient's
收发员 signs for it (签收: the incoming document is registered and its 收文 flow starts), refuses it (退文, with a
reason), or the sender recalls it (撤回) while it is still unsigned. Every change is a `DeliveryEvent`: the receipts
the sender sees.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待签收"
        SIGNED = "signed", "已签收"
        REFUSED = "refused", "已退文"
        RECALLED = "recalled", "已撤回"

    LIVE = (Status.PENDING, Status.SIGNED)

    dispatch = models.ForeignKey("documents.Dispatch", verbose_name="核发记录", on_delete=models.PROTECT,
                                 related_name="deliveries")
    document = models.ForeignKey("documents.Document", verbose_name="公文", on_delete=models.PROTECT,
                                 related_name="deliveries")
    sender_unit = models.ForeignKey("org.Unit", verbose_name="发文单位", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("org.Unit", verbose_name="收文单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("主送/抄送", max_length=4)
    copies = models.PositiveIntegerField("份数", default=1)
    print_limit = models.PositiveIntegerField("限印份数", default=0, help_text="0 表示不限")
    printed = models.PositiveIntegerField("已打印份数", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    delivered_at = models.DateTimeField("送达时间", default=timezone.now)
    opened_at = models.DateTimeField("首次查看", null=True, blank=True)
    opened_by = models.ForeignKey("org.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    signed_by = models.ForeignKey("org.Identity", verbose_name="签收人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    incoming = models.OneToOneField("documents.Document", verbose_name="收文", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="received_from")
    refused_at = models.DateTimeField("退文时间", null=True, blank=True)
    refused_by = models.ForeignKey("org.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("退文理由", max_length=200, blank=True)
    recalled_at = models.DateTimeField("撤回时间", null=True, blank=True)
    recalled_by = models.ForeignKey("org.Identity", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    urged_at = models.DateTimeField("最近催办", null=True, blank=True)
    urge_count = models.PositiveIntegerField("催办次数", default=0)
    resend_of = models.ForeignKey("self", verbose_name="重发自", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    forwarded_from = models.ForeignKey("self", verbose_name="转发自", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="forwards")

    class Meta:
        verbose_name = verbose_name_plural = "交换件"
        constraints = [
            # one live delivery per recipient of a 核发: a 重发 only after a 退文 or 撤回
            models.UniqueConstraint(fields=["dispatch"], condition=Q(status__in=["pending", "signed"]),
                                    name="delivery_one_live"),
        ]
        indexes = [models.Index(fields=["unit", "status", "-delivered_at"], name="delivery_inbox"),
                   models.Index(fields=["document", "unit"], name="delivery_document"),
                   # 收发统计 by period: a unit's received (unit, delivered_at) and sent (sender_unit, delivered_at)
                   models.Index(fields=["unit", "delivered_at"], name="delivery_unit_period"),
                   models.Index(fields=["sender_unit", "delivered_at"], name="delivery_sender_period")]

    def __str__(self) -> str:
        return f"交换 {self.document_id} → {self.unit_id}（{self.get_status_display()}）"


class DeliveryEvent(models.Model):
    """One receipt: what happened to a delivery, when, by whom."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", "已送达"
        OPENED = "opened", "已查看"
        SIGNED = "signed", "已签收"
        REFUSED = "refused", "已退文"
        RECALLED = "recalled", "已撤回"
        URGED = "urged", "催办"
        RESENT = "resent", "重发"
        PRINTED = "printed", "打印"
        FORWARDED = "forwarded", "转发"
        SENT_REMOTE = "sent_remote", "已发往外平台"
        RECALL_REQUESTED = "recall_req", "已申请撤回"
        RECALL_FAILED = "recall_fail", "撤回未成功"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    identity = models.ForeignKey("org.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "交换回执"
        indexes = [models.Index(fields=["delivery", "at"], name="delivery_event")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.kind}"


class DistributionList(models.Model):
    """A unit's saved list of recipient units for 核发 (e.g. "教育系统各单位"); the built-in lists
    ("各县区人民政府", "市直各部门") are computed from the organisation (exchange.lists) and not stored."""

    unit = models.ForeignKey("org.Unit", verbose_name="所属单位", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("名称", max_length=50)
    units = models.ManyToManyField("org.Unit", verbose_name="收文单位", related_name="+")
    updated_by = models.ForeignKey("org.Identity", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "分发名单"
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="distribution_list_unique")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
