"""Who handles a user task: assignment rules → identities, the submitter's choice, and AB岗 (issue #3 §2).

Three steps, each a pure read (no writes, no audit: the engine's operation that calls them records what
happened):

1. `resolve_candidates(rule, ctx)` — the node's `zt:assignment` rule (flow/extensions.py) resolved against
   the instance (`AssignmentContext`: the drafter, the previous handler, the business type). Only active
   identities of active people; ordered by duty rank (leaders first), then identity id. An empty list is
   not an error here: the caller decides (e.g. refuse the submit with "no handler"). A rule that cannot
   be resolved at all raises `ServiceError("flow.assignment_invalid")`.
2. `narrow_to_chosen(candidates, chosen_ids)` — for `rule="chosen"` (and any node where the submitter
   picks): the choice must be a non-empty subset of the candidates.
3. `effective_handlers(identities, business_type=, at=)` — AB岗: who actually gets each task, and on
   whose behalf.

Rules (`Assignment.rule`):

- `identity`: that identity (if active).
- `duty` + `relative`:
  - `drafter_department`: identities with that duty in the drafter's department (exactly that
    department, not its parent or children); a drafter without a department cannot have a "处室负责人
    of the drafter's department" → `flow.assignment_invalid`;
  - `drafter_unit`: identities with that duty anywhere in the drafter's unit (e.g. 分管领导);
  - `previous_unit`: the same in the previous handler's unit; no previous handler →
    `flow.assignment_invalid`;
  - `issuing_unit`: the same in the instance's 发文机关 (a 市政府 document drafted by the 市政府办公室 is
    signed by a 市长 or 副市长); the drafter's unit when the instance names none;
  - `joint_units`: the same in the other issuing units of a 联合行文 (none for a single issuer).
- `role`: the members of the role with that code defined in the drafter's unit; if the unit has no such
  role, the platform-wide one (`unit=None`). The unit's role wins even when it has no active members
  (the unit said who does this job; silently widening to the platform would hand the document to
  people of other units).
- `group`: the same, by group name.
- `drafter`: the drafter's identity (if still active).
- `chosen`: the union of the candidate rules' results, in candidate order, without duplicates; the
  previous handler then picks with `narrow_to_chosen`.

AB岗 (`effective_handlers`), for each identity A:

- a delegation of A counts when it is not revoked and `starts_at <= at < ends_at`, and its scope is
  `Delegation.ALL_SCOPES` or the business type;
- a delegation for the business type wins over an "all" one when both are active (the narrower rule
  is the more deliberate one: A said "my 发文 goes to C" on top of "everything else to B");
- with several of the same scope (the org service refuses overlaps, so only from old data) the one
  that started last wins, then the highest id;
- a delegation whose delegate identity (or person) is no longer active is ignored: if another active
  delegation remains it applies, otherwise A keeps the task — work never goes to a post nobody holds;
- **no chains**: if B has delegated too, the task still goes to B, not further. A chose B explicitly
  and nobody else; following B's own delegations could also loop (A → B → A) or land a task with a
  person A never trusted with it. B can 转办 it if needed.
- A delegate who is also in the list gets two handlers (their own task and A's): they are two tasks.

`effective_handlers` makes one query for the whole list; the caller re-runs it when a delegation starts
or ends (issue #3 §2) with `at` set to that moment.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet, Subquery

from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Delegation, Group, Identity, Role

from .extensions import RELATIVES, RULES, Assignment

RELATED = ("person", "duty", "unit", "department")


@dataclass(frozen=True)
class AssignmentContext:
    drafter: Identity
    previous: Identity | None = None
    business_type: str = ""
    issuing_unit_id: int | None = None  # the instance's 发文机关 when it is not the drafter's unit
    joint_unit_ids: tuple[int, ...] = ()  # 联合行文: the other issuing units

    @classmethod
    def of(cls, instance, previous: Identity | None = None) -> AssignmentContext:
        return cls(drafter=instance.drafter, previous=previous, business_type=instance.business_type,
                   issuing_unit_id=instance.issuing_unit_id, joint_unit_ids=tuple(instance.joint_unit_ids or ()))


@dataclass(frozen=True)
class Handler:
    """Who gets a task: `identity` handles it; `on_behalf_of` is the principal when AB岗 applied."""

    identity: Identity
    on_behalf_of: Identity | None


def _active(only_ids: list[int] | None = None) -> QuerySet:
    qs = Identity.objects.filter(active=True, person__active=True)
    if only_ids is not None:  # the submitter's choice: only those rows are built (a 会签 of 100 among 375)
        qs = qs.filter(pk__in=only_ids)
    return qs.select_related(*RELATED).order_by("duty__rank", "id")


def _invalid(message: str) -> ServiceError:
    return ServiceError("flow.assignment_invalid", message)


def _scoped(model, field: str, value: str, unit_id: int) -> Subquery:
    """The id of the `model` row named `value` in the unit, else the platform-wide one (unit NULL)."""
    rows = (model.objects.filter(**{field: value}).filter(Q(unit_id=unit_id) | Q(unit__isnull=True))
            .order_by(F("unit_id").asc(nulls_last=True)).values("pk")[:1])
    return Subquery(rows)


def _resolve_one(rule: Assignment, ctx: AssignmentContext, only_ids: list[int] | None = None) -> list[Identity]:
    drafter = ctx.drafter
    if rule.rule == "identity":
        if rule.identity is None:
            raise _invalid("指定身份规则缺少身份编号")
        return list(_active(only_ids).filter(pk=rule.identity))
    if rule.rule == "drafter":
        return list(_active(only_ids).filter(pk=drafter.pk))
    if rule.rule == "duty":
        qs = _active(only_ids).filter(duty__code=rule.duty)
        if rule.relative == "drafter_department":
            if drafter.department_id is None:
                raise _invalid(f"拟稿人没有所在处室，无法按“{RELATIVES[rule.relative]}”确定办理人")
            return list(qs.filter(department_id=drafter.department_id))
        if rule.relative == "drafter_unit":
            return list(qs.filter(unit_id=drafter.unit_id))
        if rule.relative == "issuing_unit":
            return list(qs.filter(unit_id=ctx.issuing_unit_id or drafter.unit_id))
        if rule.relative == "joint_units":
            return list(qs.filter(unit_id__in=ctx.joint_unit_ids)) if ctx.joint_unit_ids else []
        if rule.relative == "previous_unit":
            if ctx.previous is None:
                raise _invalid(f"没有上一步办理人，无法按“{RELATIVES[rule.relative]}”确定办理人")
            return list(qs.filter(unit_id=ctx.previous.unit_id))
        raise _invalid(f"相对职责规则的范围“{rule.relative}”无效")
    if rule.rule == "role":
        return list(_active(only_ids).filter(roles=_scoped(Role, "code", rule.role, drafter.unit_id)))
    if rule.rule == "group":
        return list(_active(only_ids).filter(groups=_scoped(Group, "name", rule.group, drafter.unit_id)))
    raise _invalid(f"办理人规则“{rule.rule}”无效，可用：" + "、".join(RULES))


def resolve_candidates(rule: Assignment, ctx: AssignmentContext, only_ids: list[int] | None = None) -> list[Identity]:
    """The identities `rule` names for this instance (see the module docstring); may be empty. `only_ids`: just
    those of them (the same rule, checked in the query instead of on every candidate)."""
    if rule.rule != "chosen":
        return _resolve_one(rule, ctx, only_ids)
    if not rule.candidates:
        raise _invalid("“上一步办理人选择”规则没有候选范围")
    seen: set[int] = set()
    result: list[Identity] = []
    for candidate in rule.candidates:
        if candidate.rule == "chosen":
            raise _invalid("候选范围不能再是“上一步办理人选择”")
        for identity in _resolve_one(candidate, ctx, only_ids):
            if identity.pk not in seen:
                seen.add(identity.pk)
                result.append(identity)
    return result


def narrow_to_chosen(candidates: list[Identity], chosen_ids: list[int]) -> list[Identity]:
    """The submitter's choice among `candidates`, in the order chosen (it matters for a sequential 会签),
    without duplicates. Empty, or anyone outside the candidates → `flow.handler_not_allowed`."""
    by_id = {identity.pk: identity for identity in candidates}
    try:
        chosen = list(dict.fromkeys(int(pk) for pk in chosen_ids or ()))
    except (TypeError, ValueError):
        raise ServiceError("flow.handler_not_allowed", "所选办理人无效，请重新选择") from None
    if not chosen:
        raise ServiceError("flow.handler_not_allowed", "请选择下一步办理人")
    outsiders = [pk for pk in chosen if pk not in by_id]
    if outsiders:
        names = "、".join(f"身份 {pk}" for pk in outsiders)  # by id only: an outsider's name is not the submitter's
        # business (it may be a post in any unit)
        raise ServiceError("flow.handler_not_allowed", f"{names}不在本步骤可选的办理人范围内，请重新选择")
    return [by_id[pk] for pk in chosen]


def _priority(delegation: Delegation, business_type: str) -> tuple:
    return (delegation.scope != Delegation.ALL_SCOPES and delegation.scope == business_type,
            delegation.starts_at, delegation.pk)


def effective_handlers(identities: list[Identity], *, business_type: str, at: datetime) -> list[Handler]:
    """AB岗 applied to `identities` at the moment `at` (see the module docstring). One query."""
    ids = {identity.pk for identity in identities}
    best: dict[int, Delegation] = {}
    if ids:
        scopes = {Delegation.ALL_SCOPES, business_type} if business_type else {Delegation.ALL_SCOPES}
        rows = (Delegation.objects
                .filter(principal_id__in=ids, revoked_at__isnull=True, starts_at__lte=at, ends_at__gt=at,
                        scope__in=scopes, delegate__active=True, delegate__person__active=True)
                .select_related(*(f"delegate__{name}" for name in RELATED)))
        for delegation in rows:
            current = best.get(delegation.principal_id)
            if current is None or _priority(delegation, business_type) > _priority(current, business_type):
                best[delegation.principal_id] = delegation
    handlers = []
    for identity in identities:
        delegation = best.get(identity.pk)
        if delegation is None:
            handlers.append(Handler(identity=identity, on_behalf_of=None))
        else:
            handlers.append(Handler(identity=delegation.delegate, on_behalf_of=identity))
    return handlers
