"""The demo city: counts, posts in every unit, the named demo accounts, determinism, refusal in production."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import override_settings

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, User
from zhengtong.audit.models import AuditRecord
from zhengtong.demo import data
from zhengtong.demo.management.commands.seed_demo import refuse_reason
from zhengtong.demo.seed import DemoCityBuilder, org_code, org_code_check
from zhengtong.org.credit_code import is_valid_credit_code
from zhengtong.org.models import Department, Duty, Group, Identity, Person, Region, Role, Unit
from zhengtong.web.models import Notice

pytestmark = pytest.mark.django_db

SMALL = 0.05


def seed(**kwargs):
    call_command("seed_demo", **kwargs)


def people_snapshot():
    return list(Person.objects.order_by("id").values_list("name", "user__username", "identities__unit__name",
                                                          "identities__duty__code", "identities__title"))


def wipe():
    from zhengtong.core.models import SearchEntry
    from zhengtong.documents.models import Document, NumberEntry, NumberSequence
    from zhengtong.exchange.models import Delivery
    from zhengtong.flow.models import ProcessInstance
    from zhengtong.seals.models import PlatformCA, SealUse, UnitSeal

    NumberEntry.objects.all().delete()
    NumberSequence.objects.all().delete()
    Delivery.objects.all().delete()  # protects the documents it carried (with their receipts)
    Document.objects.all().delete()  # the demo's documents under way, then their flows (tasks and trail go along)
    ProcessInstance.objects.all().delete()
    SearchEntry.objects.all().delete()
    SealUse.objects.all().delete()
    UnitSeal.objects.all().delete()
    PlatformCA.objects.all().delete()
    Notice.objects.all().delete()
    Group.objects.all().delete()
    Role.objects.all().delete()
    Identity.objects.all().delete()
    Person.objects.all().delete()
    User.objects.all().delete()
    Department.objects.all().delete()
    Unit.objects.update(parent=None)
    Unit.objects.all().delete()
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()


def assert_every_unit_staffed():
    """A principal, a 分管领导, a 收发员 and a 单位系统管理员 in every unit; a head in every department."""
    units = Unit.objects.annotate(
        principals=Count("identities", filter=Q(identities__duty__code=Duty.PRINCIPAL)),
        deputies=Count("identities", filter=Q(identities__duty__code=Duty.DEPUTY)),
        doc_clerks=Count("identities", filter=Q(identities__duty__code=Duty.DOC_CLERK)),
        admins=Count("identities", filter=Q(identities__duty__code=Duty.UNIT_ADMIN)),
    )
    for unit in units:
        assert unit.principals == 1, unit.name
        assert unit.deputies >= 1, unit.name
        assert unit.doc_clerks == 1, unit.name
        assert unit.admins == 1, unit.name
    headless = Department.objects.exclude(identities__duty__code=Duty.DEPT_HEAD)
    assert not headless.exists()


def assert_demo_accounts():
    def main(username):
        user = User.objects.get(username=username)
        assert user.otp_exempt, username
        assert user.check_password(data.DEMO_PASSWORD)
        return user.person.identities.get(is_main=True)

    identity = main("bgs.keyuan")
    assert (identity.unit.short_name, identity.department.name, identity.duty.code, identity.title) == (
        "市政府办公室", "秘书科", Duty.CLERK, "科员")
    identity = main("bgs.zhuren")
    assert (identity.unit.short_name, identity.duty.code, identity.title) == ("市政府办公室", Duty.PRINCIPAL, "主任")
    identity = main("fushizhang")
    assert (identity.unit.short_name, identity.duty.code, identity.title) == ("市政府", Duty.DEPUTY, "副市长")
    identity = main("shizhang")
    assert (identity.unit.short_name, identity.duty.code, identity.title) == ("市政府", Duty.PRINCIPAL, "市长")
    identity = main("bgs.sfy")
    assert (identity.unit.short_name, identity.duty.code) == ("市政府办公室", Duty.DOC_CLERK)
    identity = main("jyj.sfy")
    assert (identity.unit.short_name, identity.duty.code) == ("市教育局", Duty.DOC_CLERK)
    identity = main("jyj.juzhang")
    assert (identity.unit.short_name, identity.duty.code, identity.title) == ("市教育局", Duty.PRINCIPAL, "局长")
    identity = main("xian1.sfy")
    assert identity.duty.code == Duty.DOC_CLERK
    assert identity.unit.name == "青川县人民政府办公室"
    assert identity.unit.region.level == Region.Level.COUNTY
    # some people hold two posts, one of them main
    shizhang = User.objects.get(username="shizhang").person
    assert shizhang.identities.count() == 2
    assert shizhang.identities.filter(is_main=True).count() == 1


def test_r7_2_demo_administrators_hold_one_role_each_and_no_business_identity():
    seed(scale=SMALL)
    for username, role, _ in data.ADMIN_ACCOUNTS:
        user = User.objects.get(username=username)
        assert list(AdminRoleGrant.objects.filter(user=user).values_list("role", flat=True)) == [role]
        assert user.otp_exempt and user.check_password(data.DEMO_PASSWORD)
        assert not Person.objects.filter(user=user).exists()
        assert not user.is_superuser and not user.is_staff
    assert set(AdminRoleGrant.objects.values_list("role", flat=True)) == set(AdminRole.values)


def test_small_scale_has_every_post_and_the_demo_accounts():
    seed(scale=SMALL)
    assert Unit.objects.count() == 51 + 34 + 2  # the city, one county and one township
    assert_every_unit_staffed()
    assert_demo_accounts()
    assert Notice.objects.exists()
    assert Group.objects.filter(name="市政府党组成员").get().members.count() >= 5
    assert not User.objects.filter(otp_exempt=True).exclude(
        username__in=[a.username for a in data.DEMO_ACCOUNTS] + [a[0] for a in data.ADMIN_ACCOUNTS]).exists()


def test_full_scale_counts():
    seed()
    assert Unit.objects.count() == 375
    assert Person.objects.count() == 8165
    assert User.objects.count() == 8165 + len(data.ADMIN_ACCOUNTS)
    assert Region.objects.filter(level=Region.Level.CITY).count() == 1
    assert Region.objects.filter(level=Region.Level.COUNTY).count() == 6
    assert Region.objects.filter(level=Region.Level.TOWNSHIP).count() == 60
    assert not Region.objects.exclude(code__startswith="99").exists()
    assert all(is_valid_credit_code(code) for code in Unit.objects.values_list("credit_code", flat=True))
    assert not Unit.objects.filter(kind__in=["party", "government", "gov_dept"]).exclude(
        credit_code__startswith="11").exists()
    assert Unit.objects.get(short_name="市政府").doc_code == "示政发"
    assert Unit.objects.get(short_name="市政府办公室").doc_code == "示政办发"
    assert Unit.objects.get(short_name="市教育局").doc_code == "示教发"
    assert Unit.objects.get(name="青川县人民政府").doc_code == "青府发"
    # three levels, each unit below the city's leadership has a parent unit
    assert Unit.objects.filter(parent__isnull=True).count() == 5 + 2  # 市委, 人大, 政府, 政协, 纪委; 法院, 检察院
    assert_every_unit_staffed()
    assert_demo_accounts()
    # every person has exactly one main post and an account; pinyin keys are filled in
    assert not Person.objects.annotate(m=Count("identities", filter=Q(identities__is_main=True))).exclude(
        m=1).exists()
    assert not Person.objects.filter(Q(user__isnull=True) | Q(pinyin="") | Q(initials="")).exists()
    assert Identity.objects.filter(is_main=False).count() > 6
    seeded = AuditRecord.objects.get(action="demo.seed")
    assert seeded.detail["units"] == 375 and seeded.detail["people"] == 8165


def test_same_names_on_every_run():
    seed(scale=SMALL)
    first = people_snapshot()
    wipe()
    seed(scale=SMALL)
    assert people_snapshot() == first
    assert len({row[1] for row in first}) == Person.objects.count()  # usernames unique


def test_plan_is_deterministic_without_database():
    def names():
        builder = DemoCityBuilder(SMALL)
        builder.plan()
        return [(p.person.name, p.person.pinyin, p.plan.unit.name, p.duty, p.title) for p in builder.posts]

    assert names() == names()


def test_if_empty_skips_when_units_exist(capsys):
    seed(scale=SMALL)
    before = Person.objects.count()
    seed(scale=SMALL, if_empty=True)
    assert "跳过" in capsys.readouterr().out
    assert Person.objects.count() == before
    with pytest.raises(CommandError, match="已有单位"):
        seed(scale=SMALL)


def test_refuses_production_settings():
    with override_settings(SETTINGS_MODULE="zhengtong.settings.production"), \
            pytest.raises(CommandError, match="生产"):
        seed(scale=SMALL)
    with override_settings(SETTINGS_MODULE="zhengtong.settings.dev", DEBUG=False), \
            pytest.raises(CommandError, match="DEBUG"):
        seed(scale=SMALL)
    assert not Unit.objects.exists()


def test_runs_under_test_and_development_settings():
    assert refuse_reason() == ""
    with override_settings(SETTINGS_MODULE="zhengtong.settings.dev", DEBUG=True):
        assert refuse_reason() == ""


def test_bad_scale_is_refused():
    with pytest.raises(CommandError, match="scale"):
        seed(scale=0)


def test_org_code_check_character_follows_gb_11714():
    assert org_code_check("12345678") == "8"  # the standard's worked example
    codes = {org_code(seq) for seq in range(1, 400)}
    assert len(codes) == 399 and all(len(c) == 9 for c in codes)


def test_demo_documents_are_under_way_for_the_demo_accounts():
    """The demo accounts find work waiting: 秘书科's head (处室核稿), bgs.zhuren (签发, and a 待阅), fushizhang (签发 of a
    示范市人民政府 document), bgs.sfy (编号 of a signed one), jyj.juzhang (批示) — each a document with its flow; a
    dispatched one waits in jyj.sfy's and xian1.sfy's 交换箱."""
    from zhengtong.demo import flows
    from zhengtong.documents.models import Document
    from zhengtong.flow.models import ProcessInstance, Task, TrailEntry

    seed(scale=SMALL)
    assert ProcessInstance.objects.count() == 6 == Document.objects.filter(instance__isnull=False).count()

    def box(username, kind="todo"):
        return list(Task.objects.filter(assignee__person__user__username=username, status="open", kind=kind)
                    .values_list("instance__title", "node_name"))

    assert box("bgs.zhuren") == [(flows.DISPATCH_AT_SIGN, "签发")]
    assert box("bgs.zhuren", "toread") == [(flows.DISPATCH_AT_REVIEW, "起草")]
    assert box("fushizhang") == [(flows.GOVERNMENT_AT_SIGN, "签发")]
    assert box("bgs.sfy") == [(flows.GOVERNMENT_AT_NUMBER, "编号")]
    assert box("jyj.juzhang") == [(flows.RECEIPT_AT_INSTRUCT, "批示")]
    at_review = Task.objects.get(instance__title=flows.DISPATCH_AT_REVIEW, status="open", kind="todo")
    assert at_review.node_name == "处室核稿"
    signed = Document.objects.get(title=flows.GOVERNMENT_AT_NUMBER)
    assert signed.status == "signed" and signed.issuing_unit.name == "示范市人民政府"
    assert signed.signer_names == [User.objects.get(username="fushizhang").person.name]
    assert Document.objects.get(title=flows.RECEIPT_AT_INSTRUCT).receipt_number.startswith("收文〔")
    dispatched = Document.objects.get(title=flows.GOVERNMENT_DISPATCHED)
    assert dispatched.status == "closed" and dispatched.doc_number.startswith("示政发〔")
    from zhengtong.exchange.models import Delivery

    pending = Delivery.objects.filter(document=dispatched, status="pending")
    clerks = {u: User.objects.get(username=u).person.identities.get(is_main=True).unit_id for u in ("jyj.sfy",
                                                                                                   "xian1.sfy")}
    assert sorted(pending.values_list("unit_id", flat=True)) == sorted(clerks.values())
    assert TrailEntry.objects.filter(operation="submit").count() == 24
    assert AuditRecord.objects.filter(action="flow.task_submitted").count() == 24
