import pytest

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DutyFactory, IdentityFactory, UnitFactory
from zhengtong.web import selectors, services

pytestmark = pytest.mark.django_db


def test_a_unit_leader_publishes_a_notice_seen_in_the_unit_and_below():
    city_office = UnitFactory()
    bureau = UnitFactory(parent=city_office)
    leader = IdentityFactory(unit=city_office, duty=DutyFactory(code=Duty.PRINCIPAL))
    below = IdentityFactory(unit=bureau)
    elsewhere = IdentityFactory()

    notice = services.publish_notice(leader.person.user, unit=city_office, title="关于春节值班的通知", body="请各单位…")

    assert list(selectors.notices_for(below.person.user)) == [notice]
    assert list(selectors.notices_for(elsewhere.person.user)) == []
    assert AuditRecord.objects.filter(action="notice.publish", object_id=str(notice.pk)).exists()


def test_a_clerk_cannot_publish_and_an_empty_notice_is_refused():
    clerk = IdentityFactory(duty=DutyFactory(code=Duty.CLERK))
    with pytest.raises(Forbidden):
        services.publish_notice(clerk.person.user, unit=clerk.unit, title="t", body="b")
    leader = IdentityFactory(duty=DutyFactory(code=Duty.PRINCIPAL))
    with pytest.raises(ServiceError) as refused:
        services.publish_notice(leader.person.user, unit=leader.unit, title="  ", body="b")
    assert refused.value.code == "notice.empty"


def test_r7_2_administrators_do_not_publish_business_notices():
    leader = IdentityFactory(duty=DutyFactory(code=Duty.PRINCIPAL))
    AdminRoleGrantFactory(user=leader.person.user, role=AdminRole.SYSTEM)
    with pytest.raises(Forbidden):
        services.publish_notice(leader.person.user, unit=leader.unit, title="t", body="b")
