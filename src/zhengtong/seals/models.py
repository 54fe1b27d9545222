"""Electronic seals (R7.4, GB/T 38540 in spirit): the platform CA kept by the 安全保密管理员, each unit's seals (image +
key pair + certificate), and every use. Private keys are stored only encrypted (AES-256-GCM, seals.keys)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PlatformCA(models.Model):
    """The platform's seal CA and its time-stamping key (one active row)."""

    name = models.CharField("名称", max_length=100)
    certificate_pem = models.TextField("根证书")
    key_blob = models.BinaryField("私钥（加密）")
    tsa_certificate_pem = models.TextField("时间戳证书")
    tsa_key_blob = models.BinaryField("时间戳私钥（加密）")
    crl_der = models.BinaryField("证书吊销列表", blank=True)
    crl_number = models.PositiveIntegerField("吊销列表序号", default=1)
    crl_updated_at = models.DateTimeField("吊销列表更新", default=timezone.now)
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "平台印章 CA"

    def __str__(self) -> str:
        return self.name


class UnitSeal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        REVOKED = "revoked", "已吊销"

    unit = models.ForeignKey("org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="seals")
    ca = models.ForeignKey(PlatformCA, verbose_name="签发 CA", on_delete=models.PROTECT, related_name="seals")
    name = models.CharField("印章名称", max_length=100, help_text="须与发文机关署名一致（R1.2）")
    image = models.BinaryField("印模（PNG）")
    certificate_pem = models.TextField("印章证书")
    serial = models.CharField("证书序列号", max_length=64, unique=True)
    key_blob = models.BinaryField("私钥（加密）")
    valid_from = models.DateTimeField("生效")
    valid_to = models.DateTimeField("到期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoke_reason = models.CharField("吊销原因", max_length=200, blank=True)
    holders = models.ManyToManyField("org.Identity", verbose_name="用印人", blank=True, related_name="seals")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "单位印章"
        ordering = ["unit", "pk"]

    def __str__(self) -> str:
        return self.name


class SealUse(models.Model):
    """One 用印: who, when, which file (its SHA-256) — a sealed file verifies only if it is recorded here."""

    seal = models.ForeignKey(UnitSeal, on_delete=models.PROTECT, related_name="uses")
    identity = models.ForeignKey("org.Identity", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    sha256 = models.CharField("文件摘要", max_length=64, db_index=True)
    reference = models.CharField("对象", max_length=100)
    reason = models.CharField("事由", max_length=200)
    used_at = models.DateTimeField("用印时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "用印记录"

    def __str__(self) -> str:
        return f"{self.seal_id} {self.reference}"
