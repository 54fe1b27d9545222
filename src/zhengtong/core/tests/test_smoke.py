import pytest

from zhengtong.org.tests.factories import IdentityFactory


@pytest.mark.django_db
def test_identity_factory_builds_a_person_with_a_post():
    identity = IdentityFactory()
    assert identity.person.user.check_password("Demo@2026")
    assert identity.person.pinyin


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
