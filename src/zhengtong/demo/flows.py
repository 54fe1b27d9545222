"""Documents already under way in the demo city, so the demo accounts find work waiting when they first log in.

Everything goes through documents.services and flow.services as the people themselves (every step audited and in
the trail), on the platform's default flows (installed first if missing); each unit's seal is issued first
(seals.services.seed_demo_seals, holders: the unit's 收发员):

- 发文 at 处室核稿: bgs.keyuan drafted it; the head of 秘书科 has it in 待办 (bgs.zhuren a 待阅 of the draft).
- 发文 at 签发 (示政办发, the office's own): reviewed by 秘书科 and the office; bgs.zhuren has it in 待办.
- 发文 at 签发 in the name of 示范市人民政府 (示政发): reviewed by 秘书科 and by bgs.zhuren; fushizhang signs it.
- 发文 at 编号: signed by fushizhang; bgs.sfy numbers, seals and dispatches it.
- 发文 dispatched (示政发): signed by fushizhang, numbered, sealed and dispatched by bgs.sfy to 市教育局 and the
  first county government's office: waiting in jyj.sfy's and xian1.sfy's 交换箱 for 签收.
- 收文 at 批示: jyj.sfy signed for it and registered it; jyj.juzhang has it in 待办.
"""
from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from zhengtong.accounts.models import User
from zhengtong.documents import services as documents
from zhengtong.flow import services
from zhengtong.flow.models import ProcessDefinition, Task
from zhengtong.org.models import Identity, Unit

DISPATCH_AT_REVIEW = "示范市人民政府办公室关于做好2027年元旦春节期间安全生产工作的通知"
DISPATCH_AT_SIGN = "示范市人民政府办公室关于印发《示范市政务服务“一网通办”工作方案》的通知"
GOVERNMENT_AT_SIGN = "示范市人民政府关于进一步加强中小学校园安全管理工作的通知"
GOVERNMENT_AT_NUMBER = "示范市人民政府关于做好2027年春季学期开学工作的通知"
GOVERNMENT_DISPATCHED = "示范市人民政府关于做好2027年寒假期间中小学生安全教育工作的通知"
RECEIPT_AT_INSTRUCT = "省政府办公厅关于做好2027年冬春季森林防灭火工作的通知"
ACCOUNTS = ["bgs.keyuan", "bgs.zhuren", "bgs.sfy", "fushizhang", "jyj.sfy", "jyj.juzhang", "xian1.sfy"]

BODY_SAFETY = """元旦、春节即将来临，为切实做好节日期间安全生产工作，确保全市安全生产形势持续稳定，经市政府同意，现就有关事项通知如下。
一、提高思想认识，压实安全责任
各县区人民政府、市直各部门要充分认识做好节日期间安全生产工作的重要性，坚持人民至上、生命至上，严格落实党政同责、一岗双责。
二、突出重点领域，深入排查隐患
（一）道路交通。加强“两客一危”车辆动态监管，严厉打击超速、超员、疲劳驾驶等违法行为。
（二）消防安全。对人员密集场所开展全覆盖检查，确保消防通道畅通、消防设施完好有效。
（三）燃气安全。督促燃气经营企业落实安全主体责任，加强对餐饮场所用气安全的检查。
三、加强应急值守，及时报送信息
各单位要严格落实领导带班和24小时值班制度，遇有重大情况须在1小时内报告市政府总值班室。"""

BODY_SCHOOL = """为进一步加强全市中小学校园安全管理，保障广大师生生命财产安全，现就有关事项通知如下。
一、健全校园安全工作责任体系
各县区人民政府要切实履行属地管理责任，教育、公安、市场监管等部门要按照职责分工，各司其职、齐抓共管。
二、强化校园及周边治安综合治理
（一）落实校园封闭管理。中小学校要严格执行门卫登记制度，外来人员须经核实登记后方可入校。
（二）加强护学岗建设。公安机关要在上学、放学时段加强校园周边巡逻防控。
三、加强安全教育和应急演练
各学校每学期至少组织2次应急疏散演练，提高师生自救互救能力。"""

BODY_TERM = """2027年春季学期即将开始，为确保全市各级各类学校平稳有序开学，现就有关事项通知如下。
一、做好开学前准备工作
各学校要全面排查校舍、食堂、宿舍等安全隐患，按时完成教材发放和教学计划安排。
二、加强开学后教育教学管理
各县区教育行政部门要加强对开学工作的督导检查，及时协调解决存在的问题。"""

BODY_FIRE = """各设区市人民政府，省政府各部门：
当前已进入冬春季森林防火关键期，为切实做好森林防灭火工作，现就有关事项通知如下。
一、严格落实森林防灭火责任制。
二、加强野外火源管控。
三、做好扑救准备工作。"""


def _post(username: str, unit=None) -> Identity:
    identities = User.objects.get(username=username).person.identities.filter(active=True)
    return (identities.filter(unit=unit) if unit is not None else identities.filter(is_main=True)).get()


def _submit(task: Task, **kwargs) -> list[Task]:
    return services.submit_task(task.assignee.person.user, task, **kwargs)


def _open(document) -> Task:
    return (Task.objects.filter(instance_id=document.instance_id, status=Task.Status.OPEN, kind=Task.Kind.TODO)
            .select_related("assignee__person__user").order_by("id").first())


def _candidate(unit, duty: str, *, exclude=()) -> Identity:
    return (Identity.objects.filter(unit=unit, duty__code=duty, active=True, person__user__isnull=False)
            .exclude(pk__in=[i.pk for i in exclude]).order_by("pk").first())


def _units(*short_names: str) -> list[int]:
    return list(Unit.objects.filter(short_name__in=short_names, region__level=1).values_list("pk", flat=True))


def seed_demo_flows() -> int:
    """Start the demo's documents; returns how many. Skipped (0) when the demo accounts are not there."""
    if User.objects.filter(username__in=ACCOUNTS).count() != len(ACCOUNTS):
        return 0
    if not ProcessDefinition.objects.filter(unit__isnull=True, status=ProcessDefinition.Status.ACTIVE).exists():
        call_command("load_default_flows", verbosity=0)
    keyuan = _post("bgs.keyuan")
    office = keyuan.unit
    government = office.parent
    zhuren, fushizhang = _post("bgs.zhuren", office), _post("fushizhang")
    county_govs = list(Unit.objects.filter(kind="government", region__level=2).values_list("pk", flat=True))
    city_departments = _units("市教育局", "市公安局", "市市场监管局")
    from zhengtong.seals import services as seals

    # seals for the units the demo documents come from and go to; the office's 收发员 (bgs.sfy) seals the
    # 市政府's documents too (the office numbers and seals them on the government's behalf)
    sealed_units = Unit.objects.filter(pk__in=[office.pk, government.pk, *city_departments, *county_govs])
    seals.seed_demo_seals(sealed_units, extra_holders={government.pk: [_post("bgs.sfy")]})
    drafter = keyuan.person.user

    def outgoing(title, body, *, issuing=None, main=(), copy=(), text=""):
        return documents.create_document(drafter, direction="outgoing", doc_kind="通知", title=title, body_text=body,
                                         main_recipients=main, copy_recipients=copy, main_recipients_text=text,
                                         issuing_unit_id=issuing.pk if issuing else None, note="（此件公开发布）")

    def to_office_review(document, reviewer):
        review = _submit(_open(document), opinion="请审核")[0]
        return _submit(review, opinion="同意，请办公室审核", next_handlers=[reviewer.pk])[0]

    first = outgoing(DISPATCH_AT_REVIEW, BODY_SAFETY, main=county_govs + city_departments,
                     text="各县区人民政府，市直各部门")
    draft = _open(first)
    services.circulate(drafter, draft, to_identities=[zhuren], to_units=[], opinion="主任：初稿供参阅")
    _submit(draft, opinion="请科长审核")

    second = outgoing(DISPATCH_AT_SIGN, BODY_SAFETY.replace("安全生产", "政务服务"), main=county_govs + city_departments,
                      text="各县区人民政府，市直各部门")
    _submit(to_office_review(second, zhuren), opinion="拟同意，请主任签发", next_handlers=[zhuren.pk])

    third = outgoing(GOVERNMENT_AT_SIGN, BODY_SCHOOL, issuing=government, main=county_govs + city_departments[:1],
                     copy=city_departments[1:], text="各县区人民政府，市直有关部门")
    _submit(to_office_review(third, zhuren), opinion="已审核，请陈副市长签发", next_handlers=[fushizhang.pk])

    fourth = outgoing(GOVERNMENT_AT_NUMBER, BODY_TERM, issuing=government, main=city_departments[:1] + county_govs[:1])
    sign = _submit(to_office_review(fourth, zhuren), opinion="已审核，请陈副市长签发",
                   next_handlers=[fushizhang.pk])[0]
    recheck = _submit(sign, opinion="同意印发。")[0]
    _submit(recheck, opinion="已复核")

    county_office = _post("xian1.sfy").unit  # the county government's office: xian1.sfy is its 收发员
    fifth = outgoing(GOVERNMENT_DISPATCHED, BODY_TERM.replace("开学", "寒假"), issuing=government,
                     main=city_departments[:1] + [county_office.pk])
    sign = _submit(to_office_review(fifth, zhuren), opinion="已审核，请陈副市长签发",
                   next_handlers=[fushizhang.pk])[0]
    recheck = _submit(sign, opinion="同意印发。")[0]
    clerk_user = _post("bgs.sfy").person.user
    _submit(recheck, opinion="已复核")
    for step in (documents.take_number, documents.seal_document, documents.dispatch_document):
        task = _open(fifth)
        fifth.refresh_from_db()
        step(clerk_user, fifth)
        _submit(task)

    clerk = _post("jyj.sfy")
    juzhang = _post("jyj.juzhang", clerk.unit)
    received = documents.register_incoming(clerk.person.user, title=RECEIPT_AT_INSTRUCT, doc_kind="通知",
                                           source_unit_name="省人民政府办公厅", source_number="省政办发〔2026〕58号",
                                           urgency="加急", body_text=BODY_FIRE)
    first_review = _submit(_open(received))[0]  # 登记 done → 初审 by the unit's 收发员
    head = _candidate(clerk.unit, "dept_head")
    propose = _submit(first_review, opinion="属本局职责，符合收文要求", next_handlers=[head.pk])[0]
    documents.set_handling(propose.assignee.person.user, received, handling_kind="act",
                           lead_department_id=head.department_id, deadline=timezone.localdate() + timedelta(days=10))
    _submit(propose, opinion="拟请周局长阅示，由办公室牵头落实", next_handlers=[juzhang.pk])
    return 6
