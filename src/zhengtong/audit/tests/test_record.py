"""What one audit record holds (R7.3): who, which unit, what changed."""
import pytest

from zhengtong.audit.services import record, security_event
from zhengtong.core import context
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_r7_3_a_personal_event_is_filed_under_the_actors_main_unit():
    identity = IdentityFactory(is_main=True)
    rec = security_event("auth.login", user=identity.person.user)
    assert (rec.unit_id, rec.unit_name) == (identity.unit_id, identity.unit.name)
    assert rec.actor_name == identity.person.name


def test_r7_3_an_explicit_unit_wins_over_the_actors_own():
    identity = IdentityFactory(is_main=True)
    other = UnitFactory()
    rec = record("org.unit_updated", user=identity.person.user, unit=other, changes={"name": ["甲", "乙"]})
    assert rec.unit_id == other.pk and rec.changes == {"name": ["甲", "乙"]}


def test_r7_3_the_request_actor_is_named_even_when_the_service_passes_no_user():
    identity = IdentityFactory(is_main=True)
    user = identity.person.user
    with context.acting_as(user_id=user.pk, username=user.username, ip="10.1.2.3", channel="web"):
        rec = record("notice.publish")
    assert (rec.actor_id, rec.actor_username, rec.actor_name, rec.ip) == (
        user.pk, user.username, identity.person.name, "10.1.2.3")
    assert rec.unit_id == identity.unit_id
