"""Process definitions: one row per version of a BPMN definition, bound to a unit (or the platform) and a business type.

A row is immutable once saved except for its status: a running instance points at the row
it started with (`ProcessInstance.definition → ProcessDefinition`, on_delete=PROTECT), so an
activation never changes the flow of work already under way.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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


class ProcessInstance(models.Model):
    """One document's or request's way through a definition version (the one it started with, for good).

    `state` is SpiffWorkflow's serialized workflow without the spec (engine.dump_state); the spec comes from
    `definition` (cached per version). `state` and the `Task` rows are always saved in one transaction.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "办理中"
        SUSPENDED = "suspended", "已挂起"
        COMPLETED = "completed", "已办结"
        TERMINATED = "terminated", "已终止"

    definition = models.ForeignKey(ProcessDefinition, verbose_name="流程定义版本", on_delete=models.PROTECT,
                                   related_name="instances")
    business_type = models.CharField("业务类型", max_length=30, choices=BusinessType.choices)
    title = models.CharField("标题", max_length=200)
    unit = models.ForeignKey("org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    drafter = models.ForeignKey("org.Identity", verbose_name="拟稿人", on_delete=models.PROTECT, related_name="+")
    issuing_unit = models.ForeignKey("org.Unit", verbose_name="发文机关", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     help_text="以其名义办理的单位（如办公室代拟的政府文件）；为空即发起单位")
    joint_unit_ids = models.JSONField("联合发文单位", default=list, blank=True,
                                      help_text="联合行文的其他发文机关（单位 id）：会签可选其负责人")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.RUNNING)
    state = models.TextField("引擎状态", blank=True)
    version = models.PositiveIntegerField("修订号", default=0, help_text="每次流转加一（乐观校验）")
    started_at = models.DateTimeField("发起时间", default=timezone.now)
    completed_at = models.DateTimeField("结束时间", null=True, blank=True)
    deadline = models.DateField("整体办结时限", null=True, blank=True, help_text="按工作日推算；挂起期间顺延")
    deadline_status = models.CharField("时限状态", max_length=10, default="normal",
                                       choices=[("normal", "正常"), ("yellow", "黄牌"), ("red", "红牌")])
    suspended_at = models.DateTimeField("挂起时间", null=True, blank=True,
                                        help_text="挂起中为挂起开始时间；恢复时清空，各时限顺延挂起的工作日")

    class Meta:
        verbose_name = verbose_name_plural = "流程实例"
        indexes = [models.Index(fields=["drafter", "started_at"]), models.Index(fields=["status", "business_type"])]

    def __str__(self) -> str:
        return f"{self.get_business_type_display()}：{self.title}"


class Task(models.Model):
    """A task row for a worklist: one per handler of a ready user task (会签: one per signer).

    Several rows may share a `spiff_task_id` (several candidates, or the AB岗 principal and delegate): the
    first to act completes it and the others are cancelled.
    """

    class Status(models.TextChoices):
        OPEN = "open", "待办"
        DONE = "done", "已办"
        CANCELLED = "cancelled", "已取消"
        DELEGATED = "delegated", "已委派"
        WAITING = "waiting", "等待加签人"

    # rows that stand for work still to do on a step (open, 委派ed out, waiting for 前加签): when the step is done or
    # gone they are cancelled together, so none is left behind
    STANDING = (Status.OPEN, Status.DELEGATED, Status.WAITING)

    class Kind(models.TextChoices):
        TODO = "todo", "待办"
        TOREAD = "toread", "待阅"

    class DeadlineStatus(models.TextChoices):
        NORMAL = "normal", "正常"
        YELLOW = "yellow", "黄牌"
        RED = "red", "红牌"

    instance = models.ForeignKey(ProcessInstance, verbose_name="流程实例", on_delete=models.CASCADE,
                                 related_name="tasks")
    spiff_task_id = models.UUIDField("引擎任务", db_index=True)
    node_id = models.CharField("节点", max_length=100)
    node_name = models.CharField("节点名称", max_length=100)
    assignee = models.ForeignKey("org.Identity", verbose_name="办理人", on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey("org.Identity", verbose_name="代理谁办理", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    sender = models.ForeignKey("org.Identity", verbose_name="发送人", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    kind = models.CharField("类别", max_length=10, choices=Kind.choices, default=Kind.TODO)
    received_at = models.DateTimeField("收到时间", default=timezone.now)
    opened_at = models.DateTimeField("首次打开", null=True, blank=True)
    completed_at = models.DateTimeField("办理时间", null=True, blank=True)
    deadline = models.DateField("办理时限", null=True, blank=True)
    deadline_status = models.CharField("时限状态", max_length=10, choices=DeadlineStatus.choices,
                                       default=DeadlineStatus.NORMAL)
    returned_by = models.ForeignKey("org.Identity", verbose_name="退回人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    help_text="退回产生的待办：谁退回的（可直接送回退回人）")
    delegated_from = models.ForeignKey("self", verbose_name="委派自", null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="delegations",
                                       help_text="委派产生的待办：委派人的任务（受托人提交后回到委派人）")
    added_from = models.ForeignKey("self", verbose_name="加签自", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="added_signers", help_text="加签产生的待办：加签人的任务")
    add_position = models.CharField("加签方式", max_length=6, blank=True,
                                    choices=[("before", "前加签"), ("after", "后加签")])
    urge_count = models.PositiveSmallIntegerField("催办次数", default=0)
    last_urged_at = models.DateTimeField("最近催办", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "待办任务"
        indexes = [
            models.Index(fields=["assignee", "status", "kind", "deadline", "received_at"], name="flow_task_todo"),
            models.Index(fields=["assignee", "status", "kind", "completed_at"], name="flow_task_done"),
            models.Index(fields=["instance", "status"], name="flow_task_instance"),
        ]

    def __str__(self) -> str:
        return f"{self.node_name}（{self.instance_id}）"


class TrailEntry(models.Model):
    """办理轨迹: one row per operation on an instance, with the opinion (意见)."""

    instance = models.ForeignKey(ProcessInstance, verbose_name="流程实例", on_delete=models.CASCADE,
                                 related_name="trail")
    task = models.ForeignKey(Task, verbose_name="任务", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    node_id = models.CharField("节点", max_length=100, blank=True)
    node_name = models.CharField("节点名称", max_length=100, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作账号", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    identity = models.ForeignKey("org.Identity", verbose_name="身份", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey("org.Identity", verbose_name="代理谁办理", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    operation = models.CharField("操作", max_length=30)
    route = models.CharField("路由", max_length=40, blank=True)
    opinion = models.TextField("意见", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "办理轨迹"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["instance", "created_at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.node_name}"


class Phrase(models.Model):
    """常用语: a person's opinion shortcuts (意见), in their order; the platform's defaults apply until they add one."""

    person = models.ForeignKey("org.Person", verbose_name="人员", on_delete=models.CASCADE, related_name="phrases")
    text = models.CharField("内容", max_length=200)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "常用语"
        ordering = ["person", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["person", "text"], name="flow_phrase_unique_per_person")]

    def __str__(self) -> str:
        return self.text
