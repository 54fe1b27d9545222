"""Organisation: regions ⊃ units (机关单位) ⊃ departments (处室/科室); people; identities (a person's post).

Work is assigned to identities, not people: a person with two posts has two inboxes.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from zhengtong.core.pinyin import full_and_initials

from .credit_code import is_valid_credit_code


class PinyinIndexed(models.Model):
    """Rows searchable by name, full pinyin and initials (kept in step on save)."""

    pinyin = models.CharField("拼音", max_length=300, blank=True, db_index=True, editable=False)
    initials = models.CharField("拼音首字母", max_length=120, blank=True, db_index=True, editable=False)

    PINYIN_SOURCE = "name"
    IS_PERSON_NAME = False

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.refresh_pinyin()
        super().save(*args, **kwargs)

    def refresh_pinyin(self) -> None:
        self.pinyin, self.initials = full_and_initials(getattr(self, self.PINYIN_SOURCE),
                                                       is_person_name=self.IS_PERSON_NAME)


class Region(models.Model):
    class Level(models.IntegerChoices):
        CITY = 1, "市"
        COUNTY = 2, "县/区"
        TOWNSHIP = 3, "乡镇/街道"

    name = models.CharField("名称", max_length=100)
    code = models.CharField("行政区划代码", max_length=12, unique=True)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name="上级区划", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        expected_parent_level = self.level - 1 if self.level else None
        if self.level == self.Level.CITY and self.parent_id:
            raise ValidationError({"parent": "市级区划不能有上级区划"})
        if self.level and self.level > self.Level.CITY:
            if not self.parent_id or self.parent.level != expected_parent_level:
                raise ValidationError({"parent": "上级区划的层级不正确"})


class Unit(PinyinIndexed):
    """机关单位: 党委, 人大, 政府, 政协, 纪委 and their departments/bureaus."""

    class Kind(models.TextChoices):
        PARTY = "party", "党委"
        CONGRESS = "congress", "人大"
        GOVERNMENT = "government", "政府"
        CPPCC = "cppcc", "政协"
        DISCIPLINE = "discipline", "纪委监委"
        PARTY_DEPT = "party_dept", "党委工作部门"
        GOV_DEPT = "gov_dept", "政府工作部门"
        COURT = "court", "法院"
        PROCURATORATE = "procuratorate", "检察院"
        INSTITUTION = "institution", "事业单位"
        OTHER = "other", "其他"

    name = models.CharField("单位全称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    kind = models.CharField("单位类别", max_length=20, choices=Kind.choices)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    doc_code = models.CharField("机关代字", max_length=20, blank=True,
                                help_text="发文字号的机关代字，如“示政发”")
    region = models.ForeignKey(Region, verbose_name="行政区划", on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey("self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    order = models.PositiveIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["region__level", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unit_name_unique_in_region")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.credit_code and not is_valid_credit_code(self.credit_code):
            raise ValidationError({"credit_code": "统一社会信用代码校验不通过"})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "上级单位不能是本单位"})


class Department(PinyinIndexed):
    """Internal department of a unit: 处室 (city level) / 科室 (county level)."""

    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="departments")
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey("self", verbose_name="上级部门", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    order = models.PositiveIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "内设机构"
        ordering = ["unit", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="department_name_unique_in_unit")]

    def __str__(self) -> str:
        return f"{self.unit.short_name or self.unit.name}{self.name}"

    def clean(self):
        if self.parent_id and self.parent.unit_id != self.unit_id:
            raise ValidationError({"parent": "上级部门必须属于同一单位"})


class Person(PinyinIndexed):
    class Gender(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="账号", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="person")
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True)
    mobile = models.CharField("手机", max_length=20, blank=True)
    office_phone = models.CharField("办公电话", max_length=30, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    active = models.BooleanField("在职", default=True)

    IS_PERSON_NAME = True

    class Meta:
        verbose_name = verbose_name_plural = "人员"
        ordering = ["pinyin", "id"]

    def __str__(self) -> str:
        return self.name


class Duty(models.Model):
    """A kind of post. Built-in codes are what workflow assignment rules refer to."""

    PRINCIPAL = "principal"  # 主要负责人
    DEPUTY = "deputy"  # 分管领导
    DEPT_HEAD = "dept_head"  # 处室负责人
    CLERK = "clerk"  # 科员
    DOC_CLERK = "doc_clerk"  # 收发员
    UNIT_ADMIN = "unit_admin"  # 单位系统管理员
    BUILTIN = {
        PRINCIPAL: "主要负责人",
        DEPUTY: "分管领导",
        DEPT_HEAD: "处室负责人",
        CLERK: "科员",
        DOC_CLERK: "收发员",
        UNIT_ADMIN: "单位系统管理员",
    }

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=50)
    builtin = models.BooleanField("内置", default=False)
    rank = models.PositiveSmallIntegerField("排序", default=100, help_text="数字越小越靠前（领导在前）")

    class Meta:
        verbose_name = verbose_name_plural = "职责"
        ordering = ["rank", "id"]

    def __str__(self) -> str:
        return self.name


class Identity(models.Model):
    """One person's post in one unit (and department), with duty and title."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.CASCADE, related_name="identities")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="identities")
    department = models.ForeignKey(Department, verbose_name="内设机构", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="identities")
    duty = models.ForeignKey(Duty, verbose_name="职责", on_delete=models.PROTECT, related_name="identities")
    title = models.CharField("职务", max_length=50, blank=True, help_text="如：市长、副主任、科员")
    is_main = models.BooleanField("主身份", default=False)
    active = models.BooleanField("有效", default=True)
    order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "身份"
        ordering = ["unit", "duty__rank", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(is_main=True, active=True),
                                    name="identity_one_main_per_person"),
        ]
        indexes = [models.Index(fields=["unit", "duty"]), models.Index(fields=["department", "duty"])]

    def __str__(self) -> str:
        where = self.department or self.unit
        return f"{self.person.name}（{where} {self.title or self.duty.name}）"

    def clean(self):
        if self.department_id and self.department.unit_id != self.unit_id:
            raise ValidationError({"department": "内设机构必须属于该单位"})


class Group(models.Model):
    """A named set of identities (e.g. 党组成员, 应急值班组); unit-scoped or platform-wide."""

    name = models.CharField("名称", max_length=100)
    unit = models.ForeignKey(Unit, verbose_name="所属单位", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="groups")
    members = models.ManyToManyField(Identity, verbose_name="成员", blank=True, related_name="groups")
    description = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "群组"
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="group_name_unique_in_unit")]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A business role workflows can assign to (e.g. 核稿人, 督查专员); unit-scoped or platform-wide."""

    code = models.SlugField("代码", max_length=40)
    name = models.CharField("名称", max_length=100)
    unit = models.ForeignKey(Unit, verbose_name="所属单位", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="roles")
    members = models.ManyToManyField(Identity, verbose_name="成员", blank=True, related_name="roles")

    class Meta:
        verbose_name = verbose_name_plural = "角色"
        constraints = [models.UniqueConstraint(fields=["unit", "code"], name="role_code_unique_in_unit")]

    def __str__(self) -> str:
        return self.name


class Delegation(models.Model):
    """AB岗: identity A's work goes to identity B for a scope and time window (applied by the workflow)."""

    ALL_SCOPES = "all"

    principal = models.ForeignKey(Identity, verbose_name="委托人（A岗）", on_delete=models.CASCADE,
                                  related_name="delegations_given")
    delegate = models.ForeignKey(Identity, verbose_name="受托人（B岗）", on_delete=models.CASCADE,
                                 related_name="delegations_received")
    scope = models.CharField("范围", max_length=40, default=ALL_SCOPES,
                             help_text="all = 全部业务，或业务类型代码（发文、收文、签报…）")
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    reason = models.CharField("事由", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="设置人", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("设置时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "AB岗委托"
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_window_valid"),
            models.CheckConstraint(condition=~Q(principal=models.F("delegate")), name="delegation_not_to_self"),
        ]
        indexes = [models.Index(fields=["principal", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.principal.person.name} → {self.delegate.person.name}"
