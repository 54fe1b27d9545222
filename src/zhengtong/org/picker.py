"""Server side of the organisation picker (org/_picker.html + org/static/org/picker.js).

The picker posts the chosen ids as a comma list in one field. `PickerField` turns that into model
rows (checking they exist and are active), and `selected_items` gives the chips' labels when a form
is shown again (after an error, or to edit an existing choice). See docs/org-picker.md.
"""
from __future__ import annotations

from django import forms

from .models import Identity, Person, Unit

MODES = ("units", "people", "identities")


def parse_ids(value) -> list[int]:
    """"12, 15,12" → [12, 15]; raises ValueError on anything that is not a list of positive integers."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    else:
        parts = str(value).split(",")
    ids: list[int] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise ValueError(part)
        if int(part) not in ids:
            ids.append(int(part))
    return ids


def queryset_for(mode: str):
    if mode == "units":
        return Unit.objects.filter(active=True)
    if mode == "people":
        return Person.objects.filter(active=True)
    if mode == "identities":
        return Identity.objects.filter(active=True, person__active=True).select_related(
            "person", "unit", "department", "duty")
    raise ValueError(f"unknown picker mode {mode!r}")


def label_for(obj) -> str:
    """The chip text, the same as picker.js shows for a choice made in the browser."""
    if isinstance(obj, Identity):
        where = " ".join(part for part in (
            obj.department.name if obj.department_id else obj.unit.name, obj.title) if part)
        return f"{obj.person.name}（{where}）" if where else obj.person.name
    return obj.name


def selected_items(mode: str, value) -> list[dict]:
    """[{"id", "label"}] for the ids in `value` (comma list or list), in the order given; unknown ids are dropped."""
    try:
        ids = parse_ids(value)
    except ValueError:
        return []
    if not ids:
        return []
    rows = {obj.pk: obj for obj in queryset_for(mode).filter(pk__in=ids)}
    return [{"id": pk, "label": label_for(rows[pk])} for pk in ids if pk in rows]


class PickerField(forms.Field):
    """A form field for one picker: cleans to a model row (multiple=False) or a list of rows.

        delegate = PickerField(mode="identities", label="受托人（B岗）")
        recipients = PickerField(mode="units", multiple=True, max_items=50, label="主送机关")
    """

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid": "选择的内容无效，请重新选择",
        "missing": "有 %(count)d 项已不存在或已停用，请重新选择",
        "too_many": "最多只能选择 %(max)d 项",
        "one_only": "只能选择一项",
    }

    def __init__(self, *, mode: str, multiple: bool = False, max_items: int = 0, queryset=None, **kwargs):
        if mode not in MODES:
            raise ValueError(f"unknown picker mode {mode!r}")
        self.mode = mode
        self.multiple = multiple
        self.max_items = max_items
        self.queryset = queryset
        kwargs.setdefault("error_messages", {}).setdefault("required", "请选择")
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.queryset if self.queryset is not None else queryset_for(self.mode)

    def to_python(self, value):
        try:
            return parse_ids(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        if not value and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def clean(self, value):
        ids = super().clean(value)
        if not ids:
            return [] if self.multiple else None
        if not self.multiple and len(ids) > 1:
            raise forms.ValidationError(self.error_messages["one_only"], code="one_only")
        if self.max_items and len(ids) > self.max_items:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many",
                                        params={"max": self.max_items})
        rows = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=ids)}
        missing = [pk for pk in ids if pk not in rows]
        if missing:
            raise forms.ValidationError(self.error_messages["missing"], code="missing",
                                        params={"count": len(missing)})
        objects = [rows[pk] for pk in ids]
        return objects if self.multiple else objects[0]

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ",".join(str(getattr(v, "pk", v)) for v in value)
        return "" if value is None else str(getattr(value, "pk", value))
