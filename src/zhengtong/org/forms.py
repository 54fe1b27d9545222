"""Forms of the organisation pages. They only parse input; every rule is checked again in services."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from .models import Delegation, Department, Duty, Identity, Person, Unit
from .picker import PickerField

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

# AB岗 scopes offered in the form: all work, or one business type (codes the workflow issue will use).
DELEGATION_SCOPES = [
    (Delegation.ALL_SCOPES, "全部业务"),
    ("dispatch", "发文"),
    ("receipt", "收文"),
    ("sign_report", "签报"),
    ("supervision", "督查督办"),
    ("disclosure", "信息公开"),
    ("petition", "信访"),
    ("approval", "行政审批"),
]
SCOPE_LABELS = dict(DELEGATION_SCOPES)


def scope_label(code: str) -> str:
    return SCOPE_LABELS.get(code, code)


def _departments(unit: Unit):
    return Department.objects.filter(unit=unit, active=True).order_by("order", "id")


class DepartmentChoiceField(forms.ModelChoiceField):
    """Departments of one unit, shown by their own name (str() prefixes the unit's)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Department.objects.none())
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", "（无，直属本单位）")
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return obj.name


def _duties(platform_admin: bool):
    duties = Duty.objects.all()
    # only the platform 系统管理员 may make someone a 单位系统管理员 (org.services._check_duty_grant)
    return duties if platform_admin else duties.exclude(code=Duty.UNIT_ADMIN)


class DepartmentForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, widget=forms.TextInput(attrs={"placeholder": "如：秘书科"}))
    parent = DepartmentChoiceField(label="上级部门")
    order = forms.IntegerField(label="排序", min_value=0, max_value=100000, initial=0, required=False,
                               help_text="数字越小越靠前")

    def __init__(self, *args, unit: Unit, department: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = _departments(unit)
        if department is not None:
            parents = parents.exclude(pk=department.pk)
        self.fields["parent"].queryset = parents


class PersonFieldsForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", required=False, choices=[("", "（未填）"), *Person.Gender.choices])
    mobile = forms.CharField(label="手机", max_length=20, required=False,
                             widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    office_phone = forms.CharField(label="办公电话", max_length=30, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = forms.CharField(label="电子邮箱", max_length=254, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}))


class PersonCreateForm(PersonFieldsForm):
    username = forms.CharField(label="登录账号", max_length=150,
                               help_text="英文字母、数字或 _ . @ -，如 zhangsan 或 bgs.zhangsan",
                               widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none",
                                                             "spellcheck": "false"}))
    department = DepartmentChoiceField(label="内设机构")
    duty = forms.ModelChoiceField(label="职责", queryset=Duty.objects.none(), empty_label=None)
    title = forms.CharField(label="职务", max_length=50, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "如：科员、副主任"}))

    field_order = ["name", "username", "department", "duty", "title", "gender", "mobile", "office_phone", "email"]

    def __init__(self, *args, unit: Unit, platform_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _departments(unit)
        self.fields["duty"].queryset = _duties(platform_admin)
        self.fields["duty"].initial = Duty.objects.filter(code=Duty.CLERK).values_list("pk", flat=True).first()


class IdentityAddForm(forms.Form):
    """新增身份: an existing person takes a post in this unit (兼职/挂职)."""

    person = PickerField(mode="people", label="人员", help_text="输入姓名或拼音查找，如 zs")
    department = DepartmentChoiceField(label="内设机构")
    duty = forms.ModelChoiceField(label="职责", queryset=Duty.objects.none(), empty_label=None)
    title = forms.CharField(label="职务", max_length=50, required=False)
    is_main = forms.BooleanField(label="设为主身份", required=False)

    def __init__(self, *args, unit: Unit, platform_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _departments(unit)
        self.fields["duty"].queryset = _duties(platform_admin)
        self.fields["duty"].initial = Duty.objects.filter(code=Duty.CLERK).values_list("pk", flat=True).first()


def _next_hour():
    now = timezone.localtime()
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class DelegationForm(forms.Form):
    principal = forms.ModelChoiceField(label="委托人（A岗，我的身份）", queryset=Identity.objects.none(), empty_label=None)
    delegate = PickerField(mode="identities", label="受托人（B岗）",
                           help_text="输入姓名或拼音查找，选择对方的具体身份")
    scope = forms.ChoiceField(label="委托范围", choices=DELEGATION_SCOPES, initial=Delegation.ALL_SCOPES)
    starts_at = forms.DateTimeField(label="开始时间", input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                               format=DATETIME_FORMAT))
    ends_at = forms.DateTimeField(label="结束时间", input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                             format=DATETIME_FORMAT))
    reason = forms.CharField(label="事由", max_length=200, required=False,
                             widget=forms.TextInput(attrs={"placeholder": "如：外出学习、休假"}))

    def __init__(self, *args, identities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["principal"].queryset = identities
        self.fields["principal"].label_from_instance = _identity_label
        if not self.is_bound:
            start = _next_hour()
            self.initial.setdefault("starts_at", start)
            self.initial.setdefault("ends_at", (start + timedelta(days=1)).replace(hour=18))

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "结束时间必须晚于开始时间")
        return data


def _identity_label(identity: Identity) -> str:
    where = identity.unit.name + (f" · {identity.department.name}" if identity.department_id else "")
    return f"{where} · {identity.title or identity.duty.name}"
