"""传阅 (read-copies), 阅知 (marking read), 催办 (urging) and 常用语 (opinion phrases) — issue #3 §3/§4.

Rules decided here (docs/flow-design.md, "传阅、催办、常用语"):

- 传阅 never touches the engine: a read-copy is a `Task(kind=toread)` row with the engine id of the step it was
  circulated from; projection and 提交 look at todo rows only, so readers never block or cancel anything.
- Who circulates: the holder of the open todo step whose node allows `circulate` (zt:operations) while the
  instance runs; after 办结, anyone who handled such a step of the instance (收文 is often circulated after 办结).
  The drafter has no rule of their own: their 起草/登记 step allows 传阅 in the default flows.
- Readers: chosen identities and/or whole units (every active identity of the unit, its 内设机构 included; not
  its sub-units, which are chosen themselves). Only the instance's unit and its sub-units (400
  flow.reader_other_unit). One read-copy per person: someone who already has an open 待阅 of the instance is
  skipped, and the circulator themself too. AB岗 is not applied: reading is personal, a delegate does not read
  for the principal.
- 催办: the drafter, the sender of the urged task and the unit's 单位系统管理员 may urge the holder of an open todo;
  not the holder themself; at most once per task per `FLOW_URGE_INTERVAL_MINUTES` (default 10).
- 常用语: per person, at most 50, 1–200 characters, no duplicates; until a person saves one, DEFAULT_PHRASES apply,
  and the first change copies the defaults into their list (so adding one does not lose the others).
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from zhengtong.audit.services import diff, record, security_event, snapshot
from zhengtong.core.errors import Conflict, NotFound, ServiceError
from zhengtong.org.models import Duty, Identity, Person, Unit

from .. import engine, signals
from ..models import Phrase, ProcessInstance, Task, TrailEntry
from .common import clean_text, deny, locked_instance, person_of

DEFAULT_PHRASES = ["同意。", "已阅。", "拟同意，请领导审示。", "请按程序办理。", "请相关处室研究办理。"]
MAX_PHRASES = 50
DEFAULT_URGE_MESSAGE = "请尽快办理"
TRAIL_NAMES = 10  # reader names written into the 传阅 trail entry; the rest as "等 N 人"


def urge_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "FLOW_URGE_INTERVAL_MINUTES", 10)))


# --- 传阅 ------------------------------------------------------------------------------------------------------

def unit_and_sub_units(unit_id: int) -> set[int]:
    """The unit and all units below it (one query per level of the tree)."""
    found, level = {unit_id}, {unit_id}
    while level:
        level = set(Unit.objects.filter(parent_id__in=level).values_list("pk", flat=True)) - found
        found |= level
    return found


def node_operations(instance: ProcessInstance, task: Task, workflow) -> frozenset[str]:
    spiff_task = engine.find_task(workflow, task.spiff_task_id)
    if spiff_task is not None:
        return engine.node_extensions(spiff_task.task_spec).operations
    spec = engine.node_spec(workflow, task.node_id)  # a handled step the engine no longer keeps (reset)
    return engine.node_extensions(spec).operations if spec is not None else frozenset()


def _readers(instance, task: Task, to_identities, to_units) -> list[Identity]:
    """The reader identities in the order chosen (people first, then units), one per person, all checked."""
    allowed = unit_and_sub_units(instance.unit_id)
    for unit in to_units:
        if unit.pk not in allowed:
            raise ServiceError("flow.reader_other_unit", f"只能传阅给本单位及下属单位，“{unit.name}”不在其中")
    for identity in to_identities:
        if not identity.active or not identity.person.active:
            raise ServiceError("flow.identity_inactive", f"“{identity.person.name}”不是有效身份，请重新选择")
        if identity.unit_id not in allowed:
            raise ServiceError("flow.reader_other_unit",
                               f"只能传阅给本单位及下属单位的人员，“{identity.person.name}”不在其中")
    readers = list(to_identities)
    if to_units:
        readers += list(Identity.objects.filter(unit_id__in=[u.pk for u in to_units], active=True,
                                                person__active=True).select_related("person")
                        .order_by("unit_id", "duty__rank", "department__order", "order", "id"))
    by_person: dict[int, Identity] = {}
    for identity in readers:
        by_person.setdefault(identity.person_id, identity)
    return list(by_person.values())


def circulate(actor, task: Task, *, to_identities: list[Identity], to_units: list[Unit],
              opinion: str = "") -> list[Task]:
    """传阅: read-copies (待阅) of the instance for the chosen people and whole units; returns the new rows.

    The flow goes on as before (the engine is not touched); the instance row is locked only so the read-copies,
    the trail and the audit are consistent with concurrent operations."""
    person = person_of(actor)
    if task.assignee.person_id != person.pk:
        raise deny(actor, "flow.not_your_task", "只有本环节的办理人可以传阅", obj=task)
    opinion = clean_text(opinion, "flow.opinion_too_long", "传阅意见")
    if not to_identities and not to_units:
        raise ServiceError("flow.readers_required", "传阅需要选择人员或单位", status=422)
    now = timezone.now()
    with transaction.atomic():
        instance = locked_instance(task.instance_id)
        task = Task.objects.select_related("assignee__person").get(pk=task.pk)
        if task.assignee.person_id != person.pk:
            raise deny(actor, "flow.not_your_task", "只有本环节的办理人可以传阅", obj=task)
        if task.kind != Task.Kind.TODO:
            raise Conflict("flow.not_a_todo", "待阅件只需阅知，不能再传阅")
        workflow = engine.load_state(instance.definition, instance.state)
        if instance.status == ProcessInstance.Status.RUNNING:
            if task.status != Task.Status.OPEN:
                raise Conflict("flow.task_already_done", f"“{task.node_name}”已经办理，流程办结前由当前办理人传阅")
        elif instance.status == ProcessInstance.Status.COMPLETED:
            if task.status != Task.Status.DONE:
                raise Conflict("flow.task_already_done", f"您没有办理过“{task.node_name}”，不能传阅")
        else:
            raise Conflict("flow.instance_not_running", f"该流程{instance.get_status_display()}，不能传阅")
        if "circulate" not in node_operations(instance, task, workflow):
            raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”这一步不允许传阅")
        readers = _readers(instance, task, to_identities, to_units)
        already = set(Task.objects.filter(instance=instance, kind=Task.Kind.TOREAD, status=Task.Status.OPEN)
                      .values_list("assignee__person_id", flat=True))
        skipped = [r for r in readers if r.person_id in already or r.person_id == person.pk]
        readers = [r for r in readers if r.person_id not in already and r.person_id != person.pk]
        if not readers:
            raise ServiceError("flow.already_circulated", "所选人员都已在传阅中（或是您本人），无需重复传阅")
        new = Task.objects.bulk_create([
            Task(instance=instance, spiff_task_id=task.spiff_task_id, node_id=task.node_id, node_name=task.node_name,
                 assignee=r, sender=task.assignee, kind=Task.Kind.TOREAD, status=Task.Status.OPEN, received_at=now)
            for r in readers])
        for row, reader in zip(new, readers, strict=True):
            row.assignee = reader  # with its person, for the caller's message
        signals.send_tasks_assigned(new)
        names = "、".join(r.person.name for r in readers[:TRAIL_NAMES])
        summary = f"传阅 {names}" + (f" 等 {len(readers)} 人" if len(readers) > TRAIL_NAMES else "")
        TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                  actor=actor, identity=task.assignee, operation="circulate",
                                  opinion=f"{summary}。{opinion}" if opinion else summary, created_at=now)
        record("flow.task_circulated", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes={"readers": [None, [r.pk for r in readers]]},
               detail={"task": task.pk, "node": task.node_id, "count": len(readers),
                       "units": [u.pk for u in to_units], "identities": [i.pk for i in to_identities],
                       "skipped": [r.pk for r in skipped], "opinion": opinion})
        signals.task_circulated.send(sender=Task, task=task, tasks=new, actor=actor)
    return new


# --- 阅知 ------------------------------------------------------------------------------------------------------

def mark_read(actor, tasks: list[Task], *, opinion: str = "") -> int:
    """已阅: the actor's own open 待阅 rows become 已阅 (completed_at = now); returns how many changed.

    Any row that is not the actor's → 403 and nothing changes; rows already read are left as they are. The
    optional 阅知意见 goes into the trail entry of each row."""
    person = person_of(actor)
    opinion = clean_text(opinion, "flow.opinion_too_long", "阅知意见")
    ids = list(dict.fromkeys(t.pk for t in tasks))
    if not ids:
        raise ServiceError("flow.tasks_required", "请选择要标为已阅的待阅件", status=422)

    def check(rows):
        for row in rows:
            if row.assignee.person_id != person.pk:
                raise deny(actor, "flow.not_your_task", "只能将自己的待阅标为已阅", obj=row)
        for row in rows:
            if row.kind != Task.Kind.TOREAD:
                raise ServiceError("flow.not_a_toread", f"“{row.node_name}”是待办，不是待阅件，请在办理页提交")

    check(tasks)
    now = timezone.now()
    with transaction.atomic():
        instance_ids = sorted({t.instance_id for t in tasks})
        instances = {i.pk: i for i in ProcessInstance.objects.select_for_update(of=("self",)).select_related("unit")
                     .filter(pk__in=instance_ids).order_by("pk")}  # one order, so two batches never deadlock
        rows = list(Task.objects.select_related("assignee__person").filter(pk__in=ids).order_by("pk"))
        if len(rows) != len(ids):
            raise NotFound("flow.task_not_found", "所选待阅件不存在，请刷新列表")
        check(rows)
        rows = [r for r in rows if r.status == Task.Status.OPEN]
        if not rows:
            return 0
        Task.objects.filter(pk__in=[r.pk for r in rows], status=Task.Status.OPEN).update(
            status=Task.Status.DONE, completed_at=now, opened_at=Coalesce(F("opened_at"), now))
        TrailEntry.objects.bulk_create([
            TrailEntry(instance_id=r.instance_id, task=r, node_id=r.node_id, node_name=r.node_name, actor=actor,
                       identity=r.assignee, operation="read", opinion=opinion, created_at=now) for r in rows])
        for instance_id in sorted({r.instance_id for r in rows}):
            mine = [r for r in rows if r.instance_id == instance_id]
            record("flow.task_read", obj=instances[instance_id], user=actor, identity=mine[0].assignee,
                   unit=instances[instance_id].unit, changes={"status": ["open", "done"]},
                   detail={"tasks": [r.pk for r in mine], "opinion": opinion})
    return len(rows)


# --- 催办 ------------------------------------------------------------------------------------------------------

def urger_identity(actor, task: Task) -> Identity | None:
    """The identity in which the actor may urge `task`'s holder (drafter, sender, unit 单位系统管理员), or None."""
    person = getattr(actor, "person", None)
    if person is None:
        return None
    instance = task.instance
    if instance.drafter.person_id == person.pk:
        return instance.drafter
    if task.sender_id and task.sender.person_id == person.pk:
        return task.sender
    return (Identity.objects.filter(person=person, active=True, duty__code=Duty.UNIT_ADMIN, unit_id=instance.unit_id)
            .select_related("person").first())


def urge_task(actor, task: Task, *, message: str = "") -> list[Task]:
    """催办: remind the holder of an open todo; the urged task's count and time go up, the trail records the
    message and the notification channels hear `signals.task_urged` (in the transaction: the outbox). No new task: returns []."""
    person = person_of(actor)
    task = Task.objects.select_related("instance__drafter__person", "assignee__person", "sender__person").get(
        pk=task.pk)
    if task.assignee.person_id == person.pk:
        raise ServiceError("flow.cannot_urge_self", "这是您自己的待办，无需催办")
    urger = urger_identity(actor, task)
    if urger is None:
        raise deny(actor, "flow.not_allowed_to_urge", "只有拟稿人、发送人或单位系统管理员可以催办", obj=task)
    message = clean_text(message, "flow.opinion_too_long", "催办内容") or DEFAULT_URGE_MESSAGE
    now = timezone.now()
    with transaction.atomic():
        instance = locked_instance(task.instance_id)
        task = Task.objects.select_related("assignee__person").get(pk=task.pk)
        if instance.status != ProcessInstance.Status.RUNNING:
            raise Conflict("flow.instance_not_running", f"该流程{instance.get_status_display()}，不能催办")
        if task.kind != Task.Kind.TODO or task.status != Task.Status.OPEN:
            raise Conflict("flow.task_already_done", f"“{task.node_name}”已经办理，无需催办")
        if task.last_urged_at is not None and now - task.last_urged_at < urge_interval():
            wait = max(1, -(-int((urge_interval() - (now - task.last_urged_at)).total_seconds()) // 60))
            raise Conflict("flow.urged_recently", f"“{task.node_name}”刚催办过，请 {wait} 分钟后再催办")
        before = snapshot(task, ["urge_count", "last_urged_at"])
        Task.objects.filter(pk=task.pk).update(urge_count=F("urge_count") + 1, last_urged_at=now)
        task.refresh_from_db(fields=["urge_count", "last_urged_at"])
        TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                  actor=actor, identity=urger, operation="urge",
                                  opinion=f"催办 {task.assignee.person.name}：{message}", created_at=now)
        record("flow.task_urged", obj=instance, user=actor, identity=urger, unit=instance.unit,
               changes=diff(before, snapshot(task, ["urge_count", "last_urged_at"])),
               detail={"task": task.pk, "node": task.node_id, "holder": task.assignee_id, "message": message})
        signals.task_urged.send(sender=Task, task=task, actor=actor, message=message)
    return []


# --- 常用语 ----------------------------------------------------------------------------------------------------

PHRASE_FIELDS = ["text", "position"]


def _lock_phrases(person: Person) -> list[Phrase]:
    """The person's phrases under their person row's lock; the defaults are copied in on the first change."""
    Person.objects.select_for_update().filter(pk=person.pk).first()
    phrases = list(Phrase.objects.filter(person=person).order_by("position", "id"))
    if not phrases:
        phrases = Phrase.objects.bulk_create([Phrase(person=person, text=text, position=i)
                                              for i, text in enumerate(DEFAULT_PHRASES)])
    return phrases


def _own_phrase(actor, person: Person, phrase: Phrase) -> None:
    if phrase.person_id != person.pk:  # private: someone else's phrase does not exist for you
        security_event("permission.denied", user=actor, outcome="denied", obj=phrase,
                       detail={"code": "flow.phrase_not_found"})
        raise NotFound("flow.phrase_not_found", "常用语不存在")


def add_phrase(actor, text: str) -> Phrase:
    """Add a 常用语 at the end of the actor's list."""
    person = person_of(actor)
    text = " ".join((text or "").split())
    if not text or len(text) > 200:
        raise ServiceError("flow.phrase_invalid", "常用语不能为空，且不超过 200 个字")
    with transaction.atomic():
        phrases = _lock_phrases(person)
        if any(p.text == text for p in phrases):
            raise ServiceError("flow.phrase_exists", f"已有常用语“{text}”")
        if len(phrases) >= MAX_PHRASES:
            raise ServiceError("flow.phrase_limit", f"常用语最多 {MAX_PHRASES} 条，请先删除不用的")
        phrase = Phrase.objects.create(person=person, text=text,
                                       position=max((p.position for p in phrases), default=-1) + 1)
        record("flow.phrase_added", obj=phrase, user=actor, changes=diff(None, snapshot(phrase, PHRASE_FIELDS)))
    return phrase


def delete_phrase(actor, phrase: Phrase) -> None:
    person = person_of(actor)
    _own_phrase(actor, person, phrase)
    with transaction.atomic():
        _lock_phrases(person)
        phrase = Phrase.objects.filter(pk=phrase.pk).first()
        if phrase is None:
            return
        before = snapshot(phrase, PHRASE_FIELDS)
        phrase_id, text = phrase.pk, str(phrase)
        phrase.delete()
        record("flow.phrase_deleted", object_type="flow.phrase", object_id=phrase_id, object_repr=text, user=actor,
               changes=diff(before, None))


def move_phrase(actor, phrase: Phrase, position: int) -> Phrase:
    """Move a 常用语 to `position` (0 = first; clamped to the list); the others keep their order."""
    person = person_of(actor)
    _own_phrase(actor, person, phrase)
    try:
        position = int(position)
    except (TypeError, ValueError) as exc:
        raise ServiceError("flow.invalid_position", "顺序应为数字") from exc
    with transaction.atomic():
        phrases = _lock_phrases(person)
        moving = next((p for p in phrases if p.pk == phrase.pk), None)
        if moving is None:
            raise NotFound("flow.phrase_not_found", "常用语不存在")
        before = snapshot(moving, PHRASE_FIELDS)
        phrases.remove(moving)
        phrases.insert(max(0, min(position, len(phrases))), moving)
        for i, p in enumerate(phrases):
            p.position = i
        Phrase.objects.bulk_update(phrases, ["position"])
        record("flow.phrase_moved", obj=moving, user=actor, changes=diff(before, snapshot(moving, PHRASE_FIELDS)))
    return moving
