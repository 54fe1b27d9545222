"""Uploading and activating process definitions: permission unit by unit, versions, one active, audit (issue #3 §1)."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import services
from zhengtong.flow.models import BusinessType, ProcessDefinition
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, make_sysadmin, make_unit_admin

from .factories import SIMPLE, ProcessDefinitionFactory, bpmn, task

pytestmark = pytest.mark.django_db
Status = ProcessDefinition.Status


def upload(actor, unit=None, xml=SIMPLE, business_type=BusinessType.SIGN_REPORT):
    return services.upload_definition(actor, business_type=business_type, unit=unit, file_bytes=xml.encode(),
                                      name="签报流程")


def test_sysadmin_uploads_a_platform_default_as_a_draft_with_version_1():
    admin = make_sysadmin()
    definition = upload(admin)
    assert (definition.unit, definition.version, definition.status, definition.key) == (None, 1, Status.DRAFT,
                                                                                         "test_flow")
    assert len(definition.sm3) == 64 and definition.created_by == admin
    rec = AuditRecord.objects.get(action="flow.definition_uploaded")
    assert rec.object_id == str(definition.pk) and rec.changes["status"] == [None, "draft"]


def test_versions_count_per_unit_business_type_and_key():
    admin = make_sysadmin()
    unit = UnitFactory()
    assert [upload(admin).version, upload(admin).version] == [1, 2]
    assert upload(admin, unit).version == 1
    assert upload(admin, business_type=BusinessType.RECEIPT).version == 1
    assert upload(admin, xml=SIMPLE.replace("test_flow", "other_key")).version == 1


def test_unit_admin_manages_only_their_own_unit_and_not_the_platform_defaults():
    unit, other = UnitFactory(), UnitFactory()
    admin = make_unit_admin(unit)
    assert upload(admin, unit).unit == unit
    with pytest.raises(Forbidden):
        upload(admin, other)
    with pytest.raises(Forbidden):
        upload(admin, None)
    assert not ProcessDefinition.objects.filter(unit__in=[other]).exists()
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").count() == 2


def test_a_clerk_may_not_upload():
    clerk = IdentityFactory().person.user
    with pytest.raises(Forbidden):
        upload(clerk, None)


def test_invalid_upload_saves_nothing_and_lists_the_problems():
    admin = make_sysadmin()
    with pytest.raises(ServiceError) as err:
        upload(admin, xml=bpmn(task("a", ext=""), task("b", ext='<zt:assignment rule="role" role="x"/>')))
    assert err.value.code == "flow.invalid_definition" and err.value.status == 400
    assert {p["element_id"] for p in err.value.details["problems"]} == {"a", "b"}
    assert not ProcessDefinition.objects.exists()
    assert not AuditRecord.objects.filter(action="flow.definition_uploaded").exists()


def test_unknown_business_type_is_refused():
    with pytest.raises(ServiceError) as err:
        upload(make_sysadmin(), business_type="horoscope")
    assert err.value.code == "flow.invalid_business_type"


def test_activate_retires_the_previous_active_version_and_is_audited():
    admin = make_sysadmin()
    first, second = upload(admin), upload(admin)
    services.activate_definition(admin, first)
    services.activate_definition(admin, second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.RETIRED, Status.ACTIVE)
    assert second.activated_at is not None
    rec = AuditRecord.objects.filter(action="flow.definition_activated").order_by("-seq").first()
    assert rec.object_id == str(second.pk) and rec.detail["retired"] == [first.pk]
    assert AuditRecord.objects.filter(action="flow.definition_retired", object_id=str(first.pk)).exists()
    with pytest.raises(Conflict):
        services.activate_definition(admin, second)


def test_unit_and_platform_active_versions_are_independent():
    admin = make_sysadmin()
    unit = UnitFactory()
    platform, own = upload(admin), upload(admin, unit)
    services.activate_definition(admin, platform)
    services.activate_definition(make_unit_admin(unit), own)
    assert ProcessDefinition.objects.filter(status=Status.ACTIVE).count() == 2


def test_unit_admin_may_not_activate_another_units_or_the_platform_definition():
    unit, other = UnitFactory(), UnitFactory()
    admin = make_unit_admin(unit)
    for definition in (ProcessDefinitionFactory(unit=other), ProcessDefinitionFactory(unit=None)):
        with pytest.raises(Forbidden):
            services.activate_definition(admin, definition)
        definition.refresh_from_db()
        assert definition.status == Status.DRAFT


@pytest.mark.parametrize("unit_kind", ["platform", "unit"])
def test_database_allows_one_active_version_per_unit_and_business_type(unit_kind):
    unit = UnitFactory() if unit_kind == "unit" else None
    ProcessDefinitionFactory(unit=unit, status=Status.ACTIVE)
    ProcessDefinitionFactory(unit=unit, status=Status.ACTIVE, business_type=BusinessType.RECEIPT)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessDefinitionFactory(unit=unit, status=Status.ACTIVE, key="another")


@pytest.mark.parametrize("unit_kind", ["platform", "unit"])
def test_database_refuses_a_duplicate_version(unit_kind):
    unit = UnitFactory() if unit_kind == "unit" else None
    ProcessDefinitionFactory(unit=unit, version=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessDefinitionFactory(unit=unit, version=3)


def test_load_default_flows_installs_three_active_defaults_once():
    """R1.5 / R1.6: the shipped 发文, 收文 and 签报 definitions become the active platform defaults; idempotent."""
    call_command("load_default_flows", verbosity=0)
    active = ProcessDefinition.objects.filter(unit=None, status=Status.ACTIVE)
    assert sorted(active.values_list("business_type", flat=True)) == ["dispatch", "receipt", "sign_report"]
    call_command("load_default_flows", verbosity=0)
    call_command("load_default_flows", "--update", verbosity=0)
    assert ProcessDefinition.objects.count() == 3
    assert AuditRecord.objects.filter(action="flow.definition_activated").count() == 3


def test_load_default_flows_leaves_an_administrators_choice_alone_unless_updating():
    call_command("load_default_flows", verbosity=0)
    admin = make_sysadmin()
    custom = upload(admin, business_type=BusinessType.DISPATCH)
    services.activate_definition(admin, custom)
    call_command("load_default_flows", verbosity=0)
    custom.refresh_from_db()
    assert custom.status == Status.ACTIVE
    call_command("load_default_flows", "--update", verbosity=0)
    custom.refresh_from_db()
    assert custom.status == Status.RETIRED
    assert ProcessDefinition.objects.get(unit=None, business_type="dispatch", status=Status.ACTIVE).key == "dispatch"
