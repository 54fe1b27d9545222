"""公文交换 between platform instances (issue #5 §2): this instance's exchange identity, the directory of other
instances and their units, and the envelopes on their way (the outbox) or received (the inbox).

Remote units are mirrored as `org.Unit` rows (a `RemoteUnit` says whose they are), so the organisation picker,
分发名单, 核发 and the `Delivery` rows work unchanged; routing is by instance: a neighbour (a peer with a base URL)
is reached directly, any other instance through its `via` neighbour (county → city → province).
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Level(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class LocalInstance(models.Model):
    """This platform's exchange identity (one row): its id, and its signing key encrypted at rest."""

    instance_id = models.CharField("平台标识", max_length=64, unique=True)
    name = models.CharField("平台名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    algorithm = models.CharField("签名算法", max_length=20)
    key_encrypted = models.BinaryField("私钥（加密）")
    certificate_pem = models.TextField("交换证书")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "本平台交换身份"

    def __str__(self) -> str:
        return f"{self.name}（{self.instance_id}）"

    @property
    def algorithm_label(self) -> str:
        from .identity import LABELS

        return LABELS.get(self.algorithm, self.algorithm)


class RemoteInstance(models.Model):
    """Another platform instance: a neighbour (base_url set: we talk to it) or one reached through `via`."""

    instance_id = models.CharField("平台标识", max_length=64, unique=True)
    name = models.CharField("平台名称", max_length=100)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    certificate_pem = models.TextField("交换证书")
    base_url = models.CharField("交换地址", max_length=300, blank=True, help_text="相邻平台的地址；经转的平台留空")
    via = models.ForeignKey("self", verbose_name="经由", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="+")
    enabled = models.BooleanField("启用", default=True)
    last_success_at = models.DateTimeField("最近成功", null=True, blank=True)
    last_failure_at = models.DateTimeField("最近失败", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "交换平台"
        ordering = ["level", "instance_id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.instance_id}）"

    @property
    def is_neighbour(self) -> bool:
        return bool(self.base_url)


class RemoteUnit(models.Model):
    """A unit of another instance, mirrored here as `unit`; `agent` stands for it as drafter and dispatcher of the
    documents it sends (an inactive identity nobody logs in as)."""

    unit = models.OneToOneField("org.Unit", on_delete=models.PROTECT, related_name="remote")
    instance = models.ForeignKey(RemoteInstance, verbose_name="所在平台", on_delete=models.PROTECT,
                                 related_name="units")
    agent = models.ForeignKey("org.Identity", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "外平台单位"

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.instance_id}"


class Envelope(models.Model):
    """One envelope in the outbox (out) or the inbox (in), stored by its id: a repeated arrival finds the row."""

    class Direction(models.TextChoices):
        OUT = "out", "发出"
        IN = "in", "收到"

    class Kind(models.TextChoices):
        DOCUMENT = "document", "公文"
        RECEIPT = "receipt", "回执"
        REQUEST = "request", "撤回/催办"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已送达对端"
        DEAD = "dead", "发送失败"
        ACCEPTED = "accepted", "已接收"

    envelope_id = models.CharField("交换包编号", max_length=64)
    direction = models.CharField("方向", max_length=3, choices=Direction.choices)
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    origin_instance = models.CharField("发起平台", max_length=64)
    to_instance = models.CharField("目的平台", max_length=64)
    peer = models.ForeignKey(RemoteInstance, verbose_name="相邻平台", on_delete=models.PROTECT, related_name="+",
                             help_text="发出：下一跳；收到：从哪个平台收到")
    document = models.ForeignKey("documents.Document", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="envelopes")
    deliveries = models.ManyToManyField("exchange.Delivery", blank=True, related_name="envelopes",
                                        help_text="公文包：发出方的交换件，或收到后本平台各收文单位的交换件")
    file = models.FileField("交换包", upload_to="federation/%Y/%m/")
    size = models.PositiveBigIntegerField("大小", default=0)
    sha256 = models.CharField(max_length=64)
    summary = models.CharField("摘要", max_length=300, blank=True)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送", null=True, blank=True)
    claim = models.CharField("发送认领", max_length=32, blank=True,
                             help_text="认领它的发送进程（每次认领一个新值）：只有它能记录发送结果")
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField("送达/接收时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "交换包"
        constraints = [models.UniqueConstraint(fields=["direction", "envelope_id"], name="envelope_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="envelope_due",
                                condition=Q(status="pending")),
                   models.Index(fields=["peer", "direction", "status"], name="envelope_peer")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.envelope_id}"


class PendingReceipt(models.Model):
    """A receipt event (送达, 签收, 退文, 撤回 …) written in the transaction of what happened, waiting for the worker,
    which seals all of an origin's pending receipts into one envelope when it drains: two thousand documents'
    送达 travel back in a few envelopes, not two thousand."""

    origin_instance = models.CharField("发起平台", max_length=64)
    about = models.CharField("公文交换包", max_length=64)
    event = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "待发回执"

    def __str__(self) -> str:
        return f"{self.about} {self.event.get('event', '')}"
