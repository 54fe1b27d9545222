"""Build the fictional 示范市 (demo city) in the database.

This module is the one accepted exception to "services.py is the only writer": it writes seed data
for an empty development database with `bulk_create` in batches inside one transaction, because
creating ~20,000 rows one service call (and one audit record) at a time would take minutes. It
fills the fields `save()` would compute (pinyin keys) itself, hashes the demo password once and
writes a single audit record, `demo.seed`, with the counts.

Everything is derived from a fixed seed (Faker's and a `random.Random`), so two runs produce the
same names, posts and accounts.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from zhengtong.accounts.models import AdminRoleGrant, User
from zhengtong.audit.services import record
from zhengtong.core import context
from zhengtong.org.credit_code import make_credit_code
from zhengtong.org.models import Department, Duty, Group, Identity, Person, Region, Role, Unit
from zhengtong.web.models import Notice

from . import data

SEED = 20260101
FULL_PEOPLE = 8165
BATCH = 500

# Where a unit's 收发员 and 单位系统管理员 sit, in order of preference.
OFFICE_DEPARTMENTS = ("文电科", "机要科", "机要处", "办公室", "办公厅", "党政综合办公室", "综合科", "综合处", "综合室",
                      "综合股", "党建工作办公室")


@dataclass
class UnitPlan:
    unit: Unit
    spec: data.UnitSpec
    level: str  # city | county | township
    county_index: int  # 0 for the city
    head: str
    deputy: str
    departments: list[Department] = field(default_factory=list)

    def department(self, name: str) -> Department | None:
        return next((d for d in self.departments if d.name == name), None)

    def office(self) -> Department | None:
        for name in OFFICE_DEPARTMENTS:
            found = self.department(name)
            if found:
                return found
        return self.departments[0] if self.departments else None


@dataclass
class Post:
    plan: UnitPlan
    duty: str
    title: str
    department: Department | None = None
    account: data.DemoAccount | None = None
    person: Person | None = None
    identity: Identity | None = None


def org_code_check(body: str) -> str:
    """Check character of an 8-digit 组织机构代码 body (GB 11714)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(ch) * w for ch, w in zip(body, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def org_code(seq: int) -> str:
    """A 9-character 组织机构代码 (the 主体标识码 inside a credit code): 8 digits and a check character."""
    body = f"{14000000 + seq * 137:08d}"
    return body + org_code_check(body)


def dept_head_title(name: str) -> str:
    if name.endswith(("办公室", "办公厅", "室", "中心")) or name.endswith("委员会"):
        return "主任"
    for suffix, title in (("处", "处长"), ("科", "科长"), ("股", "股长"), ("庭", "庭长"), ("支队", "支队长"),
                          ("大队", "大队长"), ("队", "队长"), ("部", "主任"), ("局", "局长")):
        if name.endswith(suffix):
            return title
    return "负责人"


class DemoCityBuilder:
    """Plans the city in memory, deterministically, then writes it in bulk."""

    def __init__(self, scale: float = 1.0):
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self.scale = scale
        self.rng = random.Random(SEED)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(SEED)
        self.now = timezone.now()
        self.counties = data.COUNTIES[:max(1, round(len(data.COUNTIES) * scale))]
        self.regions: list[Region] = []
        self.plans: list[UnitPlan] = []
        self.city: dict[str, UnitPlan] = {}
        self.county_plans: list[dict[str, UnitPlan]] = []
        self.posts: list[Post] = []
        self.secondary: list[Post] = []
        self.credit_seq = 0

    # --- planning ---------------------------------------------------------------------------
    def _unit(self, spec: data.UnitSpec, *, level: str, county_index: int, region: Region, name: str,
              short: str, doc_code: str, head: str, deputy: str, parent: Unit | None, order: int,
              departments: tuple[str, ...], registry_code: str) -> UnitPlan:
        self.credit_seq += 1
        credit = make_credit_code(f"{spec.credit_kind}{registry_code}{org_code(self.credit_seq)}")
        unit = Unit(name=name, short_name=short, kind=spec.kind, credit_code=credit, doc_code=doc_code,
                    region=region, parent=parent, order=order)
        plan = UnitPlan(unit, spec, level, county_index, head, deputy)
        plan.departments = [Department(unit=unit, name=d, order=i) for i, d in enumerate(departments, 1)]
        self.plans.append(plan)
        return plan

    def plan_units(self) -> None:
        city_region = Region(name=data.CITY_NAME, code=data.CITY_CODE, level=Region.Level.CITY)
        self.regions.append(city_region)
        order = 0
        for spec in data.CITY_UNITS:
            order += 1
            fmt = {"city": data.CITY_NAME}
            parent = self.city[spec.parent].unit if spec.parent else None
            self.city[spec.key] = self._unit(
                spec, level="city", county_index=0, region=city_region, name=spec.name.format(**fmt),
                short=spec.short, doc_code=data.CITY_ABBR + spec.doc_code, head=spec.head,
                deputy=spec.deputy_title, parent=parent, order=order, departments=spec.departments,
                registry_code=data.CITY_CODE)
        for ci, county in enumerate(self.counties, 1):
            region = Region(name=county.name, code=county.code, level=Region.Level.COUNTY, parent=city_region)
            self.regions.append(region)
            fmt = {"county": county.name, "c": county.short, "head": county.head_title}
            short_fmt = {**fmt, "c": county.name}  # 青川县委, 青川县政府办公室: unambiguous in pickers
            units: dict[str, UnitPlan] = {}
            for spec in data.COUNTY_UNITS:
                order += 1
                if spec.parent:
                    parent = units[spec.parent].unit
                else:
                    parent = self.city[spec.extra["up"]].unit
                units[spec.key] = self._unit(
                    spec, level="county", county_index=ci, region=region, name=spec.name.format(**fmt),
                    short=spec.short.format(**short_fmt), doc_code=county.abbr + spec.doc_code,
                    head=spec.head.format(**fmt), deputy=spec.deputy_title.format(**fmt), parent=parent,
                    order=order, departments=spec.departments, registry_code=county.code)
            self.county_plans.append(units)
            keep = max(1, round(len(county.townships) * self.scale))
            for ti, twp in enumerate(county.townships[:keep], 1):
                twp_region = Region(name=twp, code=f"{county.code}{ti:03d}", level=Region.Level.TOWNSHIP,
                                    parent=region)
                self.regions.append(twp_region)
                street = twp.endswith("街道")
                abbr = twp.removesuffix("街道").removesuffix("镇").removesuffix("乡")
                head = "主任" if street else ("镇长" if twp.endswith("镇") else "乡长")
                order += 1
                party_head = "党工委书记" if street else "党委书记"
                self._unit(
                    data.TOWNSHIP_PARTY, level="township", county_index=ci, region=twp_region,
                    name=f"中共{county.name}{twp}{'工作委员会' if street else '委员会'}",
                    short=f"{twp}{'党工委' if street else '党委'}", doc_code=abbr + data.TOWNSHIP_PARTY.doc_code,
                    head=party_head, deputy=party_head.replace("书记", "副书记"), parent=units["party"].unit,
                    order=order, departments=data.TOWNSHIP_PARTY.departments, registry_code=county.code)
                order += 1
                self._unit(
                    data.TOWNSHIP_GOV, level="township", county_index=ci, region=twp_region,
                    name=f"{county.name}人民政府{twp}办事处" if street else f"{county.name}{twp}人民政府",
                    short=f"{twp}办事处" if street else f"{twp}政府", doc_code=abbr + data.TOWNSHIP_GOV.doc_code,
                    head=head, deputy="副" + head, parent=units["gov"].unit, order=order,
                    departments=data.TOWNSHIP_GOV.departments, registry_code=county.code)

    def plan_posts(self) -> None:
        """Leaders, department heads, one clerk per department, the 收发员 and the unit administrator."""
        deputy_titles = {("city", "gov"): ("常务副市长",), ("city", "party"): ("市委专职副书记", "市委常委、秘书长")}
        for plan in self.plans:
            posts = [Post(plan, Duty.PRINCIPAL, plan.head)]
            n_deputies = self.rng.randint(*plan.spec.deputies)
            special = deputy_titles.get((plan.level, plan.spec.key), ())
            for i in range(n_deputies):
                posts.append(Post(plan, Duty.DEPUTY, special[i] if i < len(special) else plan.deputy))
            for dept in plan.departments:
                posts.append(Post(plan, Duty.DEPT_HEAD, dept_head_title(dept.name), dept))
                posts.append(Post(plan, Duty.CLERK, self.rng.choice(data.CLERK_TITLES), dept))
            office = plan.office()
            posts.append(Post(plan, Duty.DOC_CLERK, "收发员", office))
            posts.append(Post(plan, Duty.UNIT_ADMIN, "单位系统管理员", office))
            self.posts.extend(posts)

        target = round(FULL_PEOPLE * self.scale)
        extra = max(0, target - len(self.posts))
        departments = [(plan, d) for plan in self.plans for d in plan.departments]
        weights = [{"city": 3, "county": 2, "township": 1}[plan.level] for plan, _ in departments]
        for plan, dept in self.rng.choices(departments, weights=weights, k=extra):
            self.posts.append(Post(plan, Duty.CLERK, self.rng.choice(data.CLERK_TITLES), dept))
        # group each unit's posts together (leaders first) for stable, readable identity order
        rank = {Duty.PRINCIPAL: 0, Duty.DEPUTY: 1, Duty.DEPT_HEAD: 2, Duty.CLERK: 3, Duty.DOC_CLERK: 4,
                Duty.UNIT_ADMIN: 5}
        position = {id(plan): i for i, plan in enumerate(self.plans)}
        dept_position = {id(d): i for plan in self.plans for i, d in enumerate(plan.departments)}
        self.posts.sort(key=lambda p: (position[id(p.plan)], rank[p.duty],
                                       dept_position.get(id(p.department), -1)))

    def plan_demo_accounts(self) -> None:
        for account in data.DEMO_ACCOUNTS:
            units = self.city if account.level == "city" else self.county_plans[0]
            plan = units[account.unit]
            department = plan.department(account.department) if account.department else None
            candidates = [p for p in self.posts if p.plan is plan and p.duty == account.duty and p.account is None
                          and (department is None or p.department is department)]
            if not candidates:
                raise RuntimeError(f"no post for demo account {account.username}")
            post = next((p for p in candidates if p.title == account.title), candidates[0])
            post.account, post.title = account, account.title
            if account.second:
                unit_key, duty, title = account.second
                self.secondary.append(Post(units[unit_key], duty, title, account=account))

    def plan_people(self) -> None:
        """Names from Faker zh_CN; a county head is also a deputy secretary of the county party committee,
        a township head likewise in the township party committee."""
        for post in self.posts:
            if post.account:
                post.person = Person(name=post.account.name, gender=post.account.gender)
            else:
                male = self.rng.random() < 0.55
                name = self.fake.name_male() if male else self.fake.name_female()
                post.person = Person(name=name, gender="M" if male else "F")
            post.person.office_phone = f"{self.rng.randint(6100000, 6899999)}"
            post.person.refresh_pinyin()
        by_account = {p.account.username: p.person for p in self.posts if p.account}
        for post in self.secondary:
            post.person = by_account[post.account.username]
        party_of = {(plan.level, plan.unit.region.code): plan for plan in self.plans
                    if plan.spec.key in ("party", "twp_party") and plan.level != "city"}
        for post in self.posts:
            plan = post.plan
            if post.duty != Duty.PRINCIPAL or plan.spec.key not in ("gov", "twp_gov") or plan.level == "city":
                continue
            party = party_of.get((plan.level, plan.unit.region.code))
            if party is not None:
                self.secondary.append(Post(party, Duty.DEPUTY, party.deputy, person=post.person))

    def usernames(self) -> dict[int, str]:
        reserved = {a.username for a in data.DEMO_ACCOUNTS} | {a[0] for a in data.ADMIN_ACCOUNTS}
        taken: dict[str, int] = {}
        out = {}
        for post in self.posts:
            if post.account:
                out[id(post.person)] = post.account.username
                continue
            base = "".join(ch for ch in post.person.pinyin.split(" ")[0] if ch.isascii() and ch.isalnum()) or "user"
            n = taken.get(base, 0) + 1
            candidate = base if n == 1 else f"{base}{n}"
            while candidate in reserved:
                n += 1
                candidate = f"{base}{n}"
            taken[base] = n
            reserved.add(candidate)
            out[id(post.person)] = candidate
        return out

    def plan(self) -> None:
        self.plan_units()
        self.plan_posts()
        self.plan_demo_accounts()
        self.plan_people()

    # --- writing ----------------------------------------------------------------------------
    def write(self) -> dict[str, int]:
        duties = {d.code: d for d in Duty.objects.filter(code__in=list(Duty.BUILTIN))}
        missing = set(Duty.BUILTIN) - set(duties)
        if missing:  # the org migration creates them; be robust if a database lost them
            for code in sorted(missing):
                duties[code] = Duty.objects.create(code=code, name=Duty.BUILTIN[code], builtin=True)
        for level in (Region.Level.CITY, Region.Level.COUNTY, Region.Level.TOWNSHIP):
            Region.objects.bulk_create([r for r in self.regions if r.level == level], batch_size=BATCH)

        # units in waves: a parent is saved before its children
        for plan in self.plans:
            plan.unit.refresh_pinyin()
        pending = [p.unit for p in self.plans]
        saved: set[int] = set()
        while pending:
            wave = [u for u in pending if u.parent is None or id(u.parent) in saved]
            Unit.objects.bulk_create(wave, batch_size=BATCH)
            saved.update(id(u) for u in wave)
            pending = [u for u in pending if id(u) not in saved]
        departments = [d for plan in self.plans for d in plan.departments]
        for dept in departments:
            dept.refresh_pinyin()
        Department.objects.bulk_create(departments, batch_size=BATCH)

        encoded = make_password(data.DEMO_PASSWORD)  # once: argon2 per user would take minutes
        demo_names = {a.username for a in data.DEMO_ACCOUNTS}
        names = self.usernames()
        users = []
        for post in self.posts:
            username = names[id(post.person)]
            post.person.user = User(username=username, password=encoded, password_changed_at=self.now,
                                    otp_exempt=username in demo_names)
            users.append(post.person.user)
        admins = [User(username=u, last_name=name, password=encoded, password_changed_at=self.now, otp_exempt=True)
                  for u, _, name in data.ADMIN_ACCOUNTS]
        User.objects.bulk_create(users + admins, batch_size=BATCH)
        AdminRoleGrant.objects.bulk_create([AdminRoleGrant(user=u, role=role)
                                            for u, (_, role, _) in zip(admins, data.ADMIN_ACCOUNTS, strict=True)])
        Person.objects.bulk_create([p.person for p in self.posts], batch_size=BATCH)

        identities = []
        per_unit: dict[int, int] = {}
        for post, main in [(p, True) for p in self.posts] + [(p, False) for p in self.secondary]:
            unit = post.plan.unit
            per_unit[unit.pk] = per_unit.get(unit.pk, 0) + 1
            identity = Identity(person=post.person, unit=unit, department=post.department,
                                duty=duties[post.duty], title=post.title, is_main=main, order=per_unit[unit.pk])
            post.identity = identity
            identities.append(identity)
        Identity.objects.bulk_create(identities, batch_size=BATCH)

        groups, roles, memberships = self.write_groups_and_roles()
        notices = self.write_notices()
        counts = {
            "regions": len(self.regions),
            "units": len(self.plans),
            "departments": len(departments),
            "people": len(self.posts),
            "identities": len(identities),
            "accounts": len(users) + len(admins),
            "groups": groups,
            "roles": roles,
            "memberships": memberships,
            "notices": notices,
            "scale": self.scale,
        }
        with context.acting_as(channel="command", username="seed_demo"):
            record("demo.seed", object_type="demo.city", object_id=data.CITY_CODE, object_repr=data.CITY_NAME,
                   detail=counts)
        return counts

    def _identities(self, selector: str) -> list[Identity]:
        city = self.city
        all_posts = self.posts + self.secondary
        if selector in ("gov_leaders", "party_leaders"):
            plan = city["gov" if selector == "gov_leaders" else "party"]
            return [p.identity for p in all_posts if p.plan is plan and p.duty in (Duty.PRINCIPAL, Duty.DEPUTY)]
        if selector == "office_staff":
            plan = city["gov_office"]
            return [p.identity for p in self.posts if p.plan is plan and p.duty in (Duty.DEPT_HEAD, Duty.CLERK)][:12]
        if selector == "doc_clerks":
            return [p.identity for p in self.posts if p.duty == Duty.DOC_CLERK]
        if selector == "office_dept_heads":
            plan = city["gov_office"]
            return [p.identity for p in self.posts if p.plan is plan and p.duty == Duty.DEPT_HEAD]
        if selector == "office_inspectors":
            dept = city["gov_office"].department("督查科")
            return [p.identity for p in self.posts if p.department is dept]
        if selector == "liaisons":
            seen, out = set(), []
            for p in self.posts:
                if p.plan.level == "city" and p.duty == Duty.CLERK and id(p.plan) not in seen:
                    seen.add(id(p.plan))
                    out.append(p.identity)
            return out
        raise ValueError(selector)

    def write_groups_and_roles(self) -> tuple[int, int, int]:
        groups = [(Group(name=name, description=desc, unit=self.city[key].unit if key else None), sel)
                  for key, name, desc, sel in data.GROUPS]
        Group.objects.bulk_create([g for g, _ in groups])
        roles = [(Role(code=code, name=name, unit=self.city[key].unit if key else None), sel)
                 for key, code, name, sel in data.ROLES]
        Role.objects.bulk_create([r for r, _ in roles])
        group_links = [Group.members.through(group_id=g.pk, identity_id=i.pk)
                       for g, sel in groups for i in self._identities(sel)]
        role_links = [Role.members.through(role_id=r.pk, identity_id=i.pk)
                      for r, sel in roles for i in self._identities(sel)]
        Group.members.through.objects.bulk_create(group_links, batch_size=BATCH)
        Role.members.through.objects.bulk_create(role_links, batch_size=BATCH)
        return len(groups), len(roles), len(group_links) + len(role_links)

    def write_notices(self) -> int:
        clerks = {id(p.plan): p.person.user for p in self.posts if p.duty == Duty.DOC_CLERK}
        notices = []
        for key, title, body, platform_wide, pinned, days in data.NOTICES:
            plan = self.city[key]
            notices.append(Notice(title=title, body=body, unit=plan.unit, platform_wide=platform_wide, pinned=pinned,
                                  author=clerks[id(plan)], published_at=self.now - timedelta(days=days, hours=2)))
        Notice.objects.bulk_create(notices)
        return len(notices)


def seed_demo_city(scale: float = 1.0) -> dict[str, int]:
    """Plan and write the demo city in one transaction; returns the counts."""
    builder = DemoCityBuilder(scale)
    builder.plan()
    with transaction.atomic():
        counts = builder.write()
    if connection.vendor == "postgresql":
        # fresh statistics, so the first searches after a bulk load are planned on real row counts
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts
