"""Notifications (issue #6): the in-app centre, the outbox of messages on the other channels, preferences and the
channels an administrator configured (docs/notifications.md).

`Notification` is what a person sees in the centre; `Message` is one notification on one external channel, written
in the same transaction as the event (the outbox) and sent by the worker. Both are unique per event and recipient
(`key`), so one event never gives two messages on one channel however often its receiver runs.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.TextChoices):
    TODO = "todo", "新待办"
    TOREAD = "toread", "新待阅"
    RETURNED = "returned", "退回给我"
    URGED = "urged", "催办"
    DEADLINE = "deadline", "黄牌 / 红牌"
    DELEGATION = "delegation", "AB岗代理开始 / 结束"
    ARRIVED = "arrived", "交换箱来文"
    REFUSED = "refused", "发文被退文"
    UNSIGNED = "unsigned", "对方超时未签收"
    SIGN_REMINDER = "sign_reminder", "定时签收提醒"
    OVERDUE_SUMMARY = "overdue_summary", "每周超期汇总"


class Channel(models.TextChoices):
    """The external channels (the in-app centre always gets every notification)."""

    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"
    WECOM = "wecom", "企业微信"
    DINGTALK = "dingtalk", "钉钉"


class Notification(models.Model):
    person = models.ForeignKey("org.Person", verbose_name="接收人", on_delete=models.CASCADE,
                               related_name="notifications")
    identity = models.ForeignKey("org.Identity", verbose_name="身份", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    event = models.CharField("事件", max_length=20, choices=Event.choices)
    key = models.CharField("事件标识", max_length=120, help_text="同一事件对同一人只提醒一次")
    title = models.CharField("标题", max_length=200)
    body = models.CharField("内容", max_length=1000, blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    urgent = models.BooleanField("紧急", default=False, help_text="特急公文、红牌：不受免打扰时段限制")
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "消息"
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="notify_once_per_event_and_person")]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="notify_centre"),
            # the live count: unread of one person, an index-only count
            models.Index(fields=["person"], condition=Q(read_at__isnull=True), name="notify_unread"),
        ]

    def __str__(self) -> str:
        return self.title


class ChannelConfig(models.Model):
    """A 企业微信 / 钉钉 group robot of a unit, or an SMS gateway (a unit's, or the platform's when `unit` is empty).

    The webhook URL (a 企业微信 robot's only secret) and the 加签 secret are stored encrypted (AES-256-GCM under the
    master key, bound to the row)."""

    kind = models.CharField("类型", max_length=20)
    name = models.CharField("名称", max_length=50)
    unit = models.ForeignKey("org.Unit", verbose_name="单位", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text="为空：全平台（短信网关）")
    url_blob = models.BinaryField("地址（加密）")
    secret_blob = models.BinaryField("密钥（加密）", blank=True, default=b"")
    options = models.JSONField("参数", default=dict, blank=True,
                               help_text="短信网关：请求模板 template、成功字段 success_field 与值 success_value")
    per_minute = models.PositiveIntegerField("每分钟上限", default=20, help_text="0 为不限")
    active = models.BooleanField("启用", default=True)
    broken = models.CharField("停用原因", max_length=300, blank=True,
                              help_text="服务方答复永久错误（如密钥无效）时自动停用，管理员修正后恢复")
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "消息通道"
        ordering = ["unit_id", "kind", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        from .channels import labels

        return labels().get(self.kind, self.kind)

    @property
    def options_json(self) -> str:
        import json

        return json.dumps(self.options, ensure_ascii=False)


class Message(models.Model):
    """One notification on one external channel: the outbox row the worker sends."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        DEAD = "dead", "发送失败"
        CANCELLED = "cancelled", "已取消"

    notification = models.ForeignKey(Notification, verbose_name="消息", on_delete=models.CASCADE,
                                      related_name="messages")
    channel = models.CharField("通道", max_length=20)
    config = models.ForeignKey(ChannelConfig, verbose_name="机器人 / 网关", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="messages")
    target = models.CharField("地址", max_length=200, blank=True, help_text="邮箱或手机号")
    key = models.CharField("幂等键", max_length=200, unique=True, help_text="事件 + 通道 + 接收人")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    digest = models.BooleanField("汇总发送", default=False)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送", default=timezone.now)
    claim = models.CharField(max_length=32, blank=True)
    answer = models.CharField("服务方答复", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "外发消息"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="notify_message_due"),
            models.Index(fields=["channel", "status"], name="notify_message_status"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.key}"

    @property
    def channel_label(self) -> str:
        from .channels import labels

        return labels().get(self.channel, self.channel)


class Preference(models.Model):
    """A person's choices; a unit's defaults (set by its 单位系统管理员) where `person` is empty. An event missing
    from `channels` follows the unit's default, then the platform's (notify.preferences.PLATFORM_DEFAULT)."""

    person = models.OneToOneField("org.Person", verbose_name="人员", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="notify_preference")
    unit = models.OneToOneField("org.Unit", verbose_name="单位默认", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="notify_preference")
    channels = models.JSONField("事件与通道", default=dict, blank=True, help_text="{事件: [通道, …]}")
    quiet_start = models.TimeField("免打扰开始", null=True, blank=True)
    quiet_end = models.TimeField("免打扰结束", null=True, blank=True)
    digest = models.BooleanField("每日汇总", default=False, help_text="非紧急提醒每天汇总一次发送")
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "提醒设置"
        constraints = [models.CheckConstraint(condition=Q(person__isnull=True) ^ Q(unit__isnull=True),
                                              name="notify_preference_person_or_unit")]

    def __str__(self) -> str:
        return f"提醒设置（{'人员' if self.person_id else '单位'} {self.person_id or self.unit_id}）"


class RateWindow(models.Model):
    """A per-channel (or per-robot) counter of the current minute, shared by every worker process."""

    name = models.CharField(max_length=40, unique=True)
    minute = models.DateTimeField(default=timezone.now)
    used = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.used}"


class ReminderRun(models.Model):
    """A scheduled reminder that ran (a 签收 reminder time, a weekly summary, a digest), so none runs twice."""

    name = models.CharField(max_length=40)
    slot = models.CharField(max_length=40)
    at = models.DateTimeField(default=timezone.now)
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="notify_reminder_once")]

    def __str__(self) -> str:
        return f"{self.name} {self.slot}"
