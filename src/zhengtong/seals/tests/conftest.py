from __future__ import annotations

import pytest

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, builtin_duties, duty
from zhengtong.seals import services

from .samples import notice_pdf


@pytest.fixture
def world(db):
    """A unit with a seal, its 收发员 named as holder, its 单位系统管理员, the 安全保密管理员, a 3-page notice."""
    builtin_duties()
    secadmin = UserFactory(username="secadmin1")
    AdminRoleGrant.objects.create(user=secadmin, role=AdminRole.SECURITY)
    unit = UnitFactory(name="示范市财政局")
    clerk = IdentityFactory(unit=unit, duty=duty(Duty.DOC_CLERK))
    admin = IdentityFactory(unit=unit, duty=duty(Duty.UNIT_ADMIN))
    seal = services.create_seal(secadmin, unit)
    services.set_seal_holders(admin.person.user, seal, [clerk.pk])
    pdf, page, box = notice_pdf(unit.name)
    return {"secadmin": secadmin, "unit": unit, "clerk": clerk, "admin": admin, "seal": seal, "pdf": pdf,
            "page": page, "box": box}


def seal_it(world, **kwargs) -> bytes:
    return services.seal_pdf(world["clerk"].person.user, world["seal"], world["pdf"], page=world["page"],
                             box=world["box"], reason="示财发〔2026〕3号 用印", reference="documents.document:1", **kwargs)
