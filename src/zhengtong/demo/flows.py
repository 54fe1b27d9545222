"""Documents already under way in the demo city, so the demo accounts find work waiting when they first log in.

Everything goes through flow.services as the people themselves (every step audited and in the trail), on the
platform's default flows (installed first if missing):

- 发文 at 处室核稿: bgs.keyuan drafted it; the head of 秘书科 has it in 待办.
- 发文 at 签发: reviewed by 秘书科 and the office; bgs.zhuren has it in 待办 (and a 待阅 of the first one).
- 收文 at 批示: jyj.sfy signed for it and registered it; jyj.juzhang has it in 待办.
"""
from __future__ import annotations

from django.core.management import call_command

from zhengtong.accounts.models import User
from zhengtong.flow import services
from zhengtong.flow.models import ProcessDefinition, Task
from zhengtong.org.models import Identity

DISPATCH_AT_REVIEW = "关于做好2027年元旦春节期间安全生产工作的通知"
DISPATCH_AT_SIGN = "关于印发《示范市政务服务“一网通办”工作方案》的通知"
RECEIPT_AT_INSTRUCT = "省政府办公厅关于做好2027年冬春季森林防灭火工作的通知"


def _post(username: str, unit=None) -> Identity:
    identities = User.objects.get(username=username).person.identities.filter(active=True)
    return (identities.filter(unit=unit) if unit is not None else identities.filter(is_main=True)).get()


def _submit(task: Task, **kwargs) -> list[Task]:
    return services.submit_task(task.assignee.person.user, task, **kwargs)


def _open(instance) -> Task:
    return (Task.objects.filter(instance=instance, status=Task.Status.OPEN, kind=Task.Kind.TODO)
            .select_related("assignee__person__user").order_by("id").first())


def _candidate(unit, duty: str, *, exclude=()) -> Identity:
    return (Identity.objects.filter(unit=unit, duty__code=duty, active=True, person__user__isnull=False)
            .exclude(pk__in=[i.pk for i in exclude]).order_by("pk").first())


def seed_demo_flows() -> int:
    """Start the demo's documents; returns how many. Skipped (0) when the demo accounts are not there."""
    if not User.objects.filter(username__in=["bgs.keyuan", "bgs.zhuren", "jyj.sfy", "jyj.juzhang"]).count() == 4:
        return 0
    if not ProcessDefinition.objects.filter(unit__isnull=True, status=ProcessDefinition.Status.ACTIVE).exists():
        call_command("load_default_flows", verbosity=0)
    keyuan = _post("bgs.keyuan")
    office = keyuan.unit
    zhuren = _post("bgs.zhuren", office)
    start = services.start_process

    first = start(keyuan.person.user, identity=keyuan, business_type="dispatch", title=DISPATCH_AT_REVIEW)
    draft = _open(first)
    services.circulate(keyuan.person.user, draft, to_identities=[zhuren], to_units=[], opinion="主任：初稿供参阅")
    _submit(draft, opinion="请科长审核")

    second = start(keyuan.person.user, identity=keyuan, business_type="dispatch", title=DISPATCH_AT_SIGN)
    review = _submit(_open(second), opinion="请审核")[0]
    reviewer = _candidate(office, "dept_head", exclude=[review.assignee]) or review.assignee
    office_review = _submit(review, opinion="同意，请办公室审核", next_handlers=[reviewer.pk])[0]
    _submit(office_review, opinion="拟同意，请主任签发", next_handlers=[zhuren.pk])

    clerk = _post("jyj.sfy")
    juzhang = _post("jyj.juzhang", clerk.unit)
    third = start(clerk.person.user, identity=clerk, business_type="receipt", title=RECEIPT_AT_INSTRUCT)
    register = _submit(_open(third))[0]
    first_review = _submit(register)[0]  # 初审: the unit's 收发员 (the first to act; the others' rows are cancelled)
    head = _candidate(clerk.unit, "dept_head")
    propose = _submit(first_review, opinion="属本局职责，符合收文要求", next_handlers=[head.pk])[0]
    _submit(propose, opinion="拟请周局长阅示，由办公室牵头落实", next_handlers=[juzhang.pk])
    return 3
