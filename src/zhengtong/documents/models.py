"""公文: the document with the 18 format elements of R1.2, its versions, attachments, numbers and recipients.

A document row is written only by documents.services. Its way through the platform is a flow instance
(`instance`): 发文 (dispatch.bpmn), 收文 (receipt.bpmn) or 签报 (sign_report.bpmn).
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class Direction(models.TextChoices):
    OUTGOING = "outgoing", "发文"
    INCOMING = "incoming", "收文"
    MEMO = "memo", "签报"


class DocKind(models.TextChoices):
    """R1.1: the fifteen kinds (文种)."""

    RESOLUTION = "决议", "决议"
    DECISION = "决定", "决定"
    ORDER = "命令", "命令（令）"
    COMMUNIQUE = "公报", "公报"
    ANNOUNCEMENT = "公告", "公告"
    PUBLIC_NOTICE = "通告", "通告"
    OPINION = "意见", "意见"
    NOTICE = "通知", "通知"
    CIRCULAR = "通报", "通报"
    REPORT = "报告", "报告"
    REQUEST = "请示", "请示"
    REPLY = "批复", "批复"
    MOTION = "议案", "议案"
    LETTER = "函", "函"
    MINUTES = "纪要", "纪要"


class Orientation(models.TextChoices):
    DOWNWARD = "downward", "下行文"
    UPWARD = "upward", "上行文"
    PARALLEL = "parallel", "平行文"


# the usual orientation of each kind (the drafter may change it, e.g. a 通知 to a parallel body)
KIND_ORIENTATION = {
    DocKind.REQUEST: Orientation.UPWARD, DocKind.REPORT: Orientation.UPWARD, DocKind.MOTION: Orientation.UPWARD,
    DocKind.LETTER: Orientation.PARALLEL, DocKind.MINUTES: Orientation.PARALLEL,
}


class Urgency(models.TextChoices):
    NORMAL = "", "普通"
    URGENT = "加急", "加急"
    EXTRA_URGENT = "特急", "特急"


class Classification(models.TextChoices):
    """R1.8: only 非密 and 内部 may be handled here; 秘密/机密/绝密 are refused by the services."""

    NONE = "", "非密"
    INTERNAL = "内部", "内部"


class Status(models.TextChoices):
    DRAFT = "draft", "拟稿"
    IN_PROGRESS = "in_progress", "办理中"
    SIGNED = "signed", "已签发"
    NUMBERED = "numbered", "已编号"
    SEALED = "sealed", "已用印"
    DISPATCHED = "dispatched", "已核发"
    REGISTERED = "registered", "已登记"
    HANDLING = "handling", "承办中"
    RETURNED = "returned", "已退回来文单位"
    CLOSED = "closed", "已办结"
    TERMINATED = "terminated", "已终止"


class Document(models.Model):
    direction = models.CharField("类别", max_length=10, choices=Direction.choices)
    doc_kind = models.CharField("文种", max_length=4, choices=DocKind.choices)
    orientation = models.CharField("行文方向", max_length=10, choices=Orientation.choices,
                                   default=Orientation.DOWNWARD)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    unit = models.ForeignKey("org.Unit", verbose_name="所属单位", on_delete=models.PROTECT, related_name="+",
                             help_text="发文、签报：拟稿单位；收文：收文单位")
    issuing_unit = models.ForeignKey("org.Unit", verbose_name="发文机关", on_delete=models.PROTECT,
                                     related_name="+", null=True, blank=True,
                                     help_text="以其名义发文（联合行文时为主办机关）；可为拟稿单位或其上级机关")
    drafter = models.ForeignKey("org.Identity", verbose_name="拟稿人（收文：登记人）", on_delete=models.PROTECT,
                                related_name="+")
    instance = models.OneToOneField("flow.ProcessInstance", verbose_name="流程", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="document")
    # R1.2 format elements (份号 is per printed copy: `copies` is how many are printed)
    title = models.CharField("标题", max_length=200)
    urgency = models.CharField("紧急程度", max_length=4, choices=Urgency.choices, blank=True, default="")
    classification = models.CharField("密级", max_length=4, choices=Classification.choices, blank=True, default="")
    doc_code = models.CharField("机关代字", max_length=20, blank=True)
    doc_year = models.PositiveSmallIntegerField("年份", null=True, blank=True)
    doc_seq = models.PositiveIntegerField("序号", null=True, blank=True)
    doc_number = models.CharField("发文字号", max_length=40, blank=True, db_index=True)
    main_recipients_text = models.CharField("主送机关（显示）", max_length=500, blank=True,
                                            help_text="为空时由主送单位名称生成，如“各县区人民政府，市直各部门”")
    body_html = models.TextField("正文", blank=True)
    body_text = models.TextField("正文纯文本", blank=True)
    body_version = models.PositiveIntegerField("正文版本", default=0)
    signature_text = models.CharField("发文机关署名", max_length=200, blank=True)
    issued_date = models.DateField("成文日期", null=True, blank=True, help_text="签发人签发之日；联合行文为最后签发之日")
    note = models.CharField("附注", max_length=200, blank=True)
    printing_unit = models.CharField("印发机关", max_length=100, blank=True)
    printing_date = models.DateField("印发日期", null=True, blank=True)
    copies = models.PositiveIntegerField("印发份数", default=1)
    # 签发 (R1.4): opinion, name and full date; the body as signed, for 复核 (R1.5)
    signed_by = models.ForeignKey("org.Identity", verbose_name="签发人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    signer_names = models.JSONField("签发人姓名", default=list, blank=True)
    sign_opinion = models.CharField("签发意见", max_length=2000, blank=True)
    signed_at = models.DateTimeField("签发时间", null=True, blank=True)
    signed_body_sha256 = models.CharField("签发时正文摘要", max_length=64, blank=True)
    signed_version = models.PositiveIntegerField("签发时正文版本", null=True, blank=True)
    # the fixed layout (R2) and the sealed file (R7.4)
    pdf = models.FileField("版式文件", upload_to="documents/pdf/%Y/%m/", blank=True)
    sealed_pdf = models.FileField("用印文件", upload_to="documents/sealed/%Y/%m/", blank=True)
    sealed_sha256 = models.CharField("用印文件摘要", max_length=64, blank=True)
    sealed_at = models.DateTimeField("用印时间", null=True, blank=True)
    sealed_by = models.ForeignKey("org.Identity", verbose_name="用印人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField("核发时间", null=True, blank=True)
    # 收文 (R1.6)
    source_unit = models.ForeignKey("org.Unit", verbose_name="来文单位", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    source_unit_name = models.CharField("来文单位名称", max_length=100, blank=True)
    source_number = models.CharField("来文字号", max_length=40, blank=True)
    received_at = models.DateTimeField("签收时间", null=True, blank=True)
    receipt_year = models.PositiveSmallIntegerField("收文年份", null=True, blank=True)
    receipt_seq = models.PositiveIntegerField("收文序号", null=True, blank=True)
    receipt_number = models.CharField("收文号", max_length=40, blank=True, db_index=True)
    handling_kind = models.CharField("办理类别", max_length=8, blank=True,
                                     choices=[("read", "阅件"), ("act", "办件")])
    handling_deadline = models.DateField("办理时限", null=True, blank=True)
    lead_department = models.ForeignKey("org.Department", verbose_name="主办处室", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    assisting_departments = models.ManyToManyField("org.Department", verbose_name="协办处室", blank=True,
                                                   related_name="+")
    reply = models.TextField("答复/办理结果", blank=True)
    returned_reason = models.CharField("退回理由", max_length=500, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "公文"
        indexes = [models.Index(fields=["unit", "direction", "created_at"], name="doc_unit_dir")]
        constraints = [
            models.UniqueConstraint(fields=["issuing_unit", "doc_code", "doc_year", "doc_seq"],
                                    name="doc_number_unique", condition=models.Q(doc_seq__isnull=False)),
            models.UniqueConstraint(fields=["unit", "receipt_year", "receipt_seq"], name="doc_receipt_unique",
                                    condition=models.Q(receipt_seq__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.doc_number or self.receipt_number or '（未编号）'} {self.title}"


class JointIssuer(models.Model):
    """联合行文: every issuing body in order (the lead first, order 0); each countersigns (R1.4)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="joint_issuers")
    unit = models.ForeignKey("org.Unit", verbose_name="发文机关", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField("次序", default=0)
    signed_by = models.ForeignKey("org.Identity", verbose_name="签发人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签发时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "联合发文机关"
        ordering = ["document", "order"]
        constraints = [models.UniqueConstraint(fields=["document", "unit"], name="joint_issuer_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id}#{self.order}"


class Recipient(models.Model):
    """主送 / 抄送 units, in the order the drafter gave."""

    class Kind(models.TextChoices):
        MAIN = "main", "主送"
        COPY = "copy", "抄送"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="recipients")
    unit = models.ForeignKey("org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类别", max_length=4, choices=Kind.choices)
    order = models.PositiveSmallIntegerField("次序", default=0)
    copies = models.PositiveIntegerField("份数", default=1)
    print_limit = models.PositiveIntegerField("限印份数", default=0, help_text="0 表示不限")

    class Meta:
        verbose_name = verbose_name_plural = "主送抄送机关"
        ordering = ["document", "kind", "order"]
        constraints = [models.UniqueConstraint(fields=["document", "unit"], name="recipient_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit_id}"


class Version(models.Model):
    """痕迹保留: every saved change of the body is a version (who, at which step); diffs are between versions."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本")
    title = models.CharField("标题", max_length=200)
    body_html = models.TextField("正文")
    body_text = models.TextField("正文纯文本")
    author = models.ForeignKey("org.Identity", verbose_name="修改人", on_delete=models.PROTECT, related_name="+")
    step = models.CharField("环节", max_length=100, blank=True)
    comment = models.CharField("修改说明", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "正文版本"
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="version_unique")]

    def __str__(self) -> str:
        return f"第{self.number}版"


class Attachment(models.Model):
    class Role(models.TextChoices):
        ATTACHMENT = "attachment", "附件"
        SOURCE = "source", "正文原件"  # the uploaded .docx a body came from, or a paper document's scan

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="attachments")
    role = models.CharField("类别", max_length=12, choices=Role.choices, default=Role.ATTACHMENT)
    title = models.CharField("附件名称", max_length=200, help_text="附件说明中显示的名称")
    file = models.FileField("文件", upload_to="documents/files/%Y/%m/")
    filename = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("摘要", max_length=64)
    text = models.TextField("提取的文字", blank=True)
    order = models.PositiveSmallIntegerField("次序", default=0)
    uploaded_by = models.ForeignKey("org.Identity", verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "附件"
        ordering = ["document", "role", "order", "id"]

    def __str__(self) -> str:
        return self.title


class NumberSequence(models.Model):
    """The last number given per unit, 代字 and year (发文字号) — or per unit and year for 收文号 (code "收")."""

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    code = models.CharField("机关代字", max_length=20)
    year = models.PositiveSmallIntegerField("年份")
    last = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "文号序列"
        constraints = [models.UniqueConstraint(fields=["unit", "code", "year"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.code}〔{self.year}〕至{self.last}号"


class NumberEntry(models.Model):
    """Each number ever given out: used by a document, or 空号 (taken and not used; the 收发员 may reuse it)."""

    class Status(models.TextChoices):
        USED = "used", "已使用"
        VOID = "void", "空号"

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    code = models.CharField("机关代字", max_length=20)
    year = models.PositiveSmallIntegerField("年份")
    seq = models.PositiveIntegerField("序号")
    status = models.CharField("状态", max_length=6, choices=Status.choices, default=Status.USED)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField("空号原因", max_length=200, blank=True)
    taken_by = models.ForeignKey("org.Identity", on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "文号登记"
        ordering = ["unit", "code", "year", "seq"]
        constraints = [models.UniqueConstraint(fields=["unit", "code", "year", "seq"], name="number_entry_unique")]

    def __str__(self) -> str:
        return f"{self.code}〔{self.year}〕{self.seq}号（{self.get_status_display()}）"


class Dispatch(models.Model):
    """核发: one record per recipient unit (the exchange issue turns these into deliveries)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="dispatches")
    unit = models.ForeignKey("org.Unit", verbose_name="收文单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类别", max_length=4, choices=Recipient.Kind.choices)
    copies = models.PositiveIntegerField("份数", default=1)
    print_limit = models.PositiveIntegerField("限印份数", default=0, help_text="0 表示不限")
    dispatched_by = models.ForeignKey("org.Identity", on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(default=timezone.now)
    # the exchange's 撤回: the receiving unit's 收发员 no longer read it (until a 重发)
    withdrawn = models.BooleanField("已撤回", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "核发记录"
        constraints = [models.UniqueConstraint(fields=["document", "unit"], name="dispatch_unique")]
        indexes = [models.Index(fields=["unit", "dispatched_at"], name="dispatch_unit")]

    def __str__(self) -> str:
        return f"核发 {self.document_id} → {self.unit_id}"


class Access(models.Model):
    """Reading granted explicitly (beyond flow participants, 传阅 readers and the units' 收发员/档案员)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="grants")
    identity = models.ForeignKey("org.Identity", on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey("org.Identity", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("理由", max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "阅读授权"
        constraints = [models.UniqueConstraint(fields=["document", "identity"], name="access_unique")]

    def __str__(self) -> str:
        return f"{self.identity_id} 阅 {self.document_id}"
