"""Assignment rules → identities, the submitter's choice, and AB岗 delegation (issue #3 §2)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhengtong.core.errors import ServiceError
from zhengtong.flow.assignment import (
    AssignmentContext,
    Handler,
    effective_handlers,
    narrow_to_chosen,
    resolve_candidates,
)
from zhengtong.flow.extensions import Assignment
from zhengtong.org.models import Delegation
from zhengtong.org.tests.factories import (
    DelegationFactory,
    DepartmentFactory,
    DutyFactory,
    GroupFactory,
    IdentityFactory,
    RoleFactory,
    UnitFactory,
    duty,
)

pytestmark = pytest.mark.django_db

DISPATCH = "dispatch"
RECEIPT = "receipt"


def ids(identities):
    return [i.pk for i in identities]


@pytest.fixture
def org():
    """A unit with two departments, a principal, a deputy, two dept heads in dept A, one in dept B, clerks."""
    unit = UnitFactory()
    dept_a, dept_b = DepartmentFactory(unit=unit), DepartmentFactory(unit=unit)
    o = type("Org", (), {})()
    o.unit, o.dept_a, o.dept_b = unit, dept_a, dept_b
    o.principal = IdentityFactory(unit=unit, duty=duty("principal"))
    o.deputy = IdentityFactory(unit=unit, duty=duty("deputy"))
    o.head_a2 = IdentityFactory(department=dept_a, duty=duty("dept_head"))
    o.head_a1 = IdentityFactory(department=dept_a, duty=duty("dept_head"))
    o.head_b = IdentityFactory(department=dept_b, duty=duty("dept_head"))
    o.drafter = IdentityFactory(department=dept_a, duty=duty("clerk"))
    o.clerk_b = IdentityFactory(department=dept_b, duty=duty("clerk"))
    o.ctx = AssignmentContext(drafter=o.drafter, business_type=DISPATCH)
    return o


# --- rules ----------------------------------------------------------------------------------------------

def test_identity_rule_gives_that_identity(org):
    assert resolve_candidates(Assignment(rule="identity", identity=org.head_b.pk), org.ctx) == [org.head_b]


def test_identity_rule_with_an_inactive_identity_or_person_is_empty(org):
    org.head_b.active = False
    org.head_b.save()
    org.deputy.person.active = False
    org.deputy.person.save()
    assert resolve_candidates(Assignment(rule="identity", identity=org.head_b.pk), org.ctx) == []
    assert resolve_candidates(Assignment(rule="identity", identity=org.deputy.pk), org.ctx) == []


def test_drafter_rule_gives_the_drafter(org):
    assert resolve_candidates(Assignment(rule="drafter"), org.ctx) == [org.drafter]


def test_duty_of_the_drafters_department_in_identity_id_order(org):
    rule = Assignment(rule="duty", duty="dept_head", relative="drafter_department")
    assert ids(resolve_candidates(rule, org.ctx)) == sorted([org.head_a1.pk, org.head_a2.pk])


def test_duty_of_the_drafters_department_needs_a_department(org):
    ctx = AssignmentContext(drafter=org.deputy)
    with pytest.raises(ServiceError) as exc:
        resolve_candidates(Assignment(rule="duty", duty="dept_head", relative="drafter_department"), ctx)
    assert exc.value.code == "flow.assignment_invalid" and "处室" in exc.value.message


def test_duty_of_the_drafters_unit_excludes_other_units(org):
    IdentityFactory(duty=duty("deputy"))  # another unit's deputy
    second = IdentityFactory(unit=org.unit, duty=duty("deputy"))
    rule = Assignment(rule="duty", duty="deputy", relative="drafter_unit")
    assert ids(resolve_candidates(rule, org.ctx)) == [org.deputy.pk, second.pk]


def test_duty_of_the_previous_handlers_unit(org):
    other = UnitFactory()
    clerk = IdentityFactory(unit=other, duty=duty("doc_clerk"))
    IdentityFactory(unit=org.unit, duty=duty("doc_clerk"))
    previous = IdentityFactory(unit=other, duty=duty("principal"))
    ctx = AssignmentContext(drafter=org.drafter, previous=previous)
    assert resolve_candidates(Assignment(rule="duty", duty="doc_clerk", relative="previous_unit"), ctx) == [clerk]


def test_previous_unit_without_a_previous_handler_is_invalid(org):
    with pytest.raises(ServiceError) as exc:
        resolve_candidates(Assignment(rule="duty", duty="doc_clerk", relative="previous_unit"), org.ctx)
    assert exc.value.code == "flow.assignment_invalid" and "上一步办理人" in exc.value.message


def test_unknown_rule_and_unknown_relative_are_invalid(org):
    for rule in (Assignment(rule="nobody"), Assignment(rule="duty", duty="clerk", relative="elsewhere"),
                 Assignment(rule="identity"), Assignment(rule="chosen")):
        with pytest.raises(ServiceError) as exc:
            resolve_candidates(rule, org.ctx)
        assert exc.value.code == "flow.assignment_invalid"


def test_candidates_are_ordered_by_duty_rank_then_identity_id(org):
    leader_duty = DutyFactory(code="secretary_general", name="秘书长", rank=15)
    late_leader = IdentityFactory(unit=org.unit, duty=leader_duty)
    role = RoleFactory(unit=org.unit, code="reviewer")
    role.members.add(org.clerk_b, org.head_b, late_leader, org.principal, org.head_a1)
    got = resolve_candidates(Assignment(rule="role", role="reviewer"), org.ctx)
    assert ids(got) == [org.principal.pk, late_leader.pk, org.head_a1.pk, org.head_b.pk, org.clerk_b.pk]


def test_inactive_identities_and_people_are_never_candidates(org):
    org.head_a1.active = False
    org.head_a1.save()
    org.head_a2.person.active = False
    org.head_a2.person.save()
    rule = Assignment(rule="duty", duty="dept_head", relative="drafter_department")
    assert resolve_candidates(rule, org.ctx) == []  # empty is not an error: the caller decides
    org.drafter.active = False
    org.drafter.save()
    assert resolve_candidates(Assignment(rule="drafter"), org.ctx) == []


def test_role_of_the_drafters_unit_wins_over_the_platform_role(org):
    unit_role = RoleFactory(unit=org.unit, code="reviewer")
    unit_role.members.add(org.head_b)
    platform_role = RoleFactory(unit=None, code="reviewer")
    platform_role.members.add(org.deputy)
    other_unit_role = RoleFactory(code="reviewer")
    other_unit_role.members.add(IdentityFactory())
    assert resolve_candidates(Assignment(rule="role", role="reviewer"), org.ctx) == [org.head_b]


def test_role_falls_back_to_the_platform_role(org):
    platform_role = RoleFactory(unit=None, code="inspector")
    far = IdentityFactory()  # a platform role may name people of any unit
    platform_role.members.add(far, org.deputy)
    RoleFactory(code="inspector").members.add(IdentityFactory())  # another unit's role is not ours
    assert ids(resolve_candidates(Assignment(rule="role", role="inspector"), org.ctx)) == [org.deputy.pk, far.pk]


def test_a_units_role_without_active_members_does_not_widen_to_the_platform(org):
    unit_role = RoleFactory(unit=org.unit, code="reviewer")
    unit_role.members.add(org.head_b)
    org.head_b.active = False
    org.head_b.save()
    RoleFactory(unit=None, code="reviewer").members.add(org.deputy)
    assert resolve_candidates(Assignment(rule="role", role="reviewer"), org.ctx) == []


def test_unknown_role_or_group_is_empty(org):
    assert resolve_candidates(Assignment(rule="role", role="ghost"), org.ctx) == []
    assert resolve_candidates(Assignment(rule="group", group="无此群组"), org.ctx) == []


def test_group_of_the_drafters_unit_wins_over_the_platform_group(org):
    GroupFactory(unit=org.unit, name="党组成员").members.add(org.principal, org.deputy)
    GroupFactory(unit=None, name="党组成员").members.add(org.clerk_b)
    GroupFactory(unit=None, name="应急值班组").members.add(org.head_b, org.clerk_b)
    assert resolve_candidates(Assignment(rule="group", group="党组成员"), org.ctx) == [org.principal, org.deputy]
    assert resolve_candidates(Assignment(rule="group", group="应急值班组"), org.ctx) == [org.head_b, org.clerk_b]


def test_chosen_is_the_union_of_its_candidates_without_duplicates_in_order(org):
    GroupFactory(unit=org.unit, name="会签组").members.add(org.head_b, org.deputy)
    rule = Assignment(rule="chosen", candidates=(
        Assignment(rule="duty", duty="dept_head", relative="drafter_department"),
        Assignment(rule="group", group="会签组"),
        Assignment(rule="identity", identity=org.head_a1.pk),
    ))
    expected = sorted([org.head_a1.pk, org.head_a2.pk]) + [org.deputy.pk, org.head_b.pk]
    assert ids(resolve_candidates(rule, org.ctx)) == expected


def test_resolution_loads_people_and_duties_with_the_identities(org, django_assert_num_queries):
    rule = Assignment(rule="duty", duty="dept_head", relative="drafter_department")
    with django_assert_num_queries(1):
        names = [(i.person.name, i.duty.code, i.unit.pk, i.department.pk) for i in resolve_candidates(rule, org.ctx)]
    assert len(names) == 2


def test_role_and_group_resolve_in_one_query_each(org, django_assert_num_queries):
    RoleFactory(unit=None, code="reviewer").members.add(org.head_b)
    with django_assert_num_queries(1):
        assert resolve_candidates(Assignment(rule="role", role="reviewer"), org.ctx) == [org.head_b]
    GroupFactory(unit=org.unit, name="值班").members.add(org.head_b)
    with django_assert_num_queries(1):
        assert resolve_candidates(Assignment(rule="group", group="值班"), org.ctx) == [org.head_b]


# --- the submitter's choice ---------------------------------------------------------------------------

def test_chosen_subset_is_kept_in_the_submitters_order(org):
    candidates = [org.head_a1, org.head_a2, org.head_b]
    assert narrow_to_chosen(candidates, [org.head_b.pk, org.head_a1.pk, org.head_b.pk]) == [org.head_b, org.head_a1]
    assert narrow_to_chosen(candidates, [org.head_a2.pk]) == [org.head_a2]


def test_choosing_an_outsider_is_refused_by_id_without_their_name(org):
    """The message names outsiders by id only: a post of another unit is not the submitter's business."""
    candidates = [org.head_a1, org.head_a2]
    with pytest.raises(ServiceError) as exc:
        narrow_to_chosen(candidates, [org.head_a1.pk, org.clerk_b.pk, 999999])
    assert exc.value.code == "flow.handler_not_allowed"
    assert f"身份 {org.clerk_b.pk}" in exc.value.message and "999999" in exc.value.message
    assert org.clerk_b.person.name not in exc.value.message
    assert org.head_a1.person.name not in exc.value.message


def test_choosing_nobody_is_refused(org):
    with pytest.raises(ServiceError) as exc:
        narrow_to_chosen([org.head_a1], [])
    assert exc.value.code == "flow.handler_not_allowed" and "请选择" in exc.value.message
    with pytest.raises(ServiceError) as exc:
        narrow_to_chosen([], [org.head_a1.pk])
    assert exc.value.code == "flow.handler_not_allowed"


def test_choosing_something_that_is_not_an_identity_id_is_refused(org):
    for chosen in (["abc"], [None], None):
        with pytest.raises(ServiceError) as exc:
            narrow_to_chosen([org.head_a1], chosen)
        assert exc.value.code == "flow.handler_not_allowed"


# --- AB岗 -----------------------------------------------------------------------------------------------

def test_without_delegation_each_identity_handles_its_own_task(org):
    DelegationFactory(principal=org.head_b, delegate=org.clerk_b)  # not in the list
    got = effective_handlers([org.head_a1, org.deputy], business_type=DISPATCH, at=timezone.now())
    assert got == [Handler(org.head_a1, None), Handler(org.deputy, None)]


def test_active_all_scope_delegation_sends_the_task_to_the_delegate_on_behalf_of_the_principal(org):
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, scope=Delegation.ALL_SCOPES)
    got = effective_handlers([org.head_a1, org.head_a2], business_type=DISPATCH, at=timezone.now())
    assert got == [Handler(org.drafter, org.head_a1), Handler(org.head_a2, None)]


def test_delegation_applies_only_inside_its_window(org):
    now = timezone.now()
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, starts_at=now, ends_at=now + timedelta(days=2))
    handler = lambda at: effective_handlers([org.head_a1], business_type=DISPATCH, at=at)[0]  # noqa: E731
    assert handler(now - timedelta(seconds=1)) == Handler(org.head_a1, None)
    assert handler(now) == Handler(org.drafter, org.head_a1)  # starts_at is inclusive
    assert handler(now + timedelta(days=1)) == Handler(org.drafter, org.head_a1)
    assert handler(now + timedelta(days=2)) == Handler(org.head_a1, None)  # ends_at is exclusive


def test_revoked_delegation_does_not_apply(org):
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, revoked_at=timezone.now())
    assert effective_handlers([org.head_a1], business_type=DISPATCH, at=timezone.now()) == [Handler(org.head_a1, None)]


def test_delegation_for_another_business_type_does_not_apply(org):
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, scope=RECEIPT)
    now = timezone.now()
    assert effective_handlers([org.head_a1], business_type=DISPATCH, at=now) == [Handler(org.head_a1, None)]
    assert effective_handlers([org.head_a1], business_type=RECEIPT, at=now) == [Handler(org.drafter, org.head_a1)]


def test_business_type_delegation_wins_over_all_scope(org):
    # created in both orders so neither id nor start time decides
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, scope=Delegation.ALL_SCOPES)
    DelegationFactory(principal=org.head_a1, delegate=org.head_a2, scope=DISPATCH,
                      starts_at=timezone.now() - timedelta(days=1))
    DelegationFactory(principal=org.head_b, delegate=org.clerk_b, scope=DISPATCH)
    DelegationFactory(principal=org.head_b, delegate=org.deputy, scope=Delegation.ALL_SCOPES)
    now = timezone.now()
    assert effective_handlers([org.head_a1, org.head_b], business_type=DISPATCH, at=now) == [
        Handler(org.head_a2, org.head_a1), Handler(org.clerk_b, org.head_b)]
    assert effective_handlers([org.head_a1, org.head_b], business_type=RECEIPT, at=now) == [
        Handler(org.drafter, org.head_a1), Handler(org.deputy, org.head_b)]


def test_inactive_delegate_leaves_the_task_with_the_principal(org):
    DelegationFactory(principal=org.head_a1, delegate=org.drafter)
    DelegationFactory(principal=org.head_b, delegate=org.clerk_b)
    org.drafter.active = False
    org.drafter.save()
    org.clerk_b.person.active = False
    org.clerk_b.person.save()
    got = effective_handlers([org.head_a1, org.head_b], business_type=DISPATCH, at=timezone.now())
    assert got == [Handler(org.head_a1, None), Handler(org.head_b, None)]


def test_inactive_business_type_delegate_falls_back_to_the_all_scope_delegate(org):
    DelegationFactory(principal=org.head_a1, delegate=org.drafter, scope=DISPATCH)
    DelegationFactory(principal=org.head_a1, delegate=org.head_a2, scope=Delegation.ALL_SCOPES)
    org.drafter.active = False
    org.drafter.save()
    assert effective_handlers([org.head_a1], business_type=DISPATCH, at=timezone.now()) == [
        Handler(org.head_a2, org.head_a1)]


def test_delegations_are_not_followed_in_chains(org):
    DelegationFactory(principal=org.head_a1, delegate=org.head_a2)
    DelegationFactory(principal=org.head_a2, delegate=org.drafter)  # B has delegated too
    DelegationFactory(principal=org.head_b, delegate=org.clerk_b)
    DelegationFactory(principal=org.clerk_b, delegate=org.head_b)  # a loop
    got = effective_handlers([org.head_a1, org.head_b], business_type=DISPATCH, at=timezone.now())
    assert got == [Handler(org.head_a2, org.head_a1), Handler(org.clerk_b, org.head_b)]


def test_a_delegate_in_the_list_gets_both_tasks(org):
    DelegationFactory(principal=org.head_a1, delegate=org.head_a2)
    got = effective_handlers([org.head_a1, org.head_a2], business_type=DISPATCH, at=timezone.now())
    assert got == [Handler(org.head_a2, org.head_a1), Handler(org.head_a2, None)]


def test_effective_handlers_is_one_query_for_any_number_of_identities(org, django_assert_max_num_queries):
    people = [IdentityFactory(unit=org.unit) for _ in range(12)]
    for principal in people[::2]:
        DelegationFactory(principal=principal, delegate=org.clerk_b)
        DelegationFactory(principal=principal, delegate=org.head_b, scope=DISPATCH)
    with django_assert_max_num_queries(1):
        got = effective_handlers(people, business_type=DISPATCH, at=timezone.now())
        names = [(h.identity.person.name, h.identity.duty.code, h.identity.unit.pk) for h in got]
    assert len(names) == 12
    assert [h.on_behalf_of for h in got[::2]] == people[::2] and {h.identity for h in got[::2]} == {org.head_b}
    assert all(h.on_behalf_of is None and h.identity == p for h, p in zip(got[1::2], people[1::2], strict=True))


def test_effective_handlers_of_nobody_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert effective_handlers([], business_type=DISPATCH, at=timezone.now()) == []
