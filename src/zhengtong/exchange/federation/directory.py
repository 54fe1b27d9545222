"""The exchange directory: this instance's identity, the instances it knows (neighbours and those behind them),
their units mirrored as `org.Unit`, and routing (the neighbour an envelope for an instance goes to).

An instance describes itself with `describe()` (id, name, level, certificate, its units and the instances it
routes for); the 系统管理员 of a neighbour imports that description with `link()` (manage.py federation_link),
which pins the certificate — trust is "this certificate for this instance", not a public PKI.
"""
from __future__ import annotations

from functools import lru_cache

from cryptography import x509
from django.conf import settings
from django.db import transaction

from zhengtong.core.errors import ServiceError
from zhengtong.seals.keys import decrypt_private_key, encrypt_der

from . import identity
from .models import LocalInstance, RemoteInstance, RemoteUnit

MAX_HOPS = 6


class NotConfigured(ServiceError):
    status = 503


class UnitNotTheirs(ServiceError):
    status = 400


def create_local(*, instance_id: str, name: str, level: str, algorithm: str = "") -> LocalInstance:
    """This instance's identity; `algorithm` defaults to EXCHANGE_ALGORITHM (sm2 in 国密 mode)."""
    if LocalInstance.objects.exists():
        raise ServiceError("exchange.instance_exists", "本平台已有交换身份")
    algorithm = algorithm or settings.EXCHANGE_ALGORITHM
    if algorithm not in identity.ALGORITHMS:
        raise ServiceError("exchange.invalid_algorithm", f"不支持的签名算法“{algorithm[:20]}”")
    key = identity.generate(instance_id, algorithm=algorithm)  # GmUnavailable (a ServiceError) without tongsuopy
    return LocalInstance.objects.create(
        instance_id=instance_id, name=name, level=level, algorithm=algorithm,
        key_encrypted=encrypt_der(key.private_der(), f"federation:{instance_id}"),
        certificate_pem=key.certificate_pem().decode())


def local() -> LocalInstance:
    row = LocalInstance.objects.first()
    if row is None:
        raise NotConfigured("exchange.federation_off", "本平台尚未配置跨平台交换身份")
    return row


def local_key() -> identity.InstanceKey:
    row = local()
    return _key(row.instance_id, row.algorithm, bytes(row.key_encrypted), row.certificate_pem)


@lru_cache(maxsize=4)
def _key(instance_id: str, algorithm: str, blob: bytes, pem: str) -> identity.InstanceKey:
    private = identity.load_private(algorithm, decrypt_private_key(blob, f"federation:{instance_id}"))
    return identity.InstanceKey(instance_id, algorithm, private, certificate(pem))


@lru_cache(maxsize=256)
def certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def trusted() -> dict[str, x509.Certificate]:
    """instance id → pinned certificate, for every enabled instance in the directory (the envelope's origin)."""
    return {r.instance_id: certificate(r.certificate_pem)
            for r in RemoteInstance.objects.filter(enabled=True).only("instance_id", "certificate_pem")}


def next_hop(instance: RemoteInstance) -> RemoteInstance:
    """The neighbour an envelope for `instance` is handed to."""
    hop, seen = instance, 0
    while not hop.base_url:
        if hop.via_id is None or seen >= MAX_HOPS:
            raise ServiceError("exchange.no_route", f"没有到“{instance.name}”的交换路由")
        hop, seen = hop.via, seen + 1
    return hop


def remote_units(unit_ids) -> dict[int, RemoteUnit]:
    return {r.unit_id: r for r in RemoteUnit.objects.filter(unit_id__in=list(unit_ids))
            .select_related("instance", "unit", "agent")}


def unit_entry(unit) -> dict:
    """How a unit is named in envelopes and directories: its 统一社会信用代码 is the key across instances."""
    region = unit.region
    return {"code": unit.credit_code, "name": unit.name, "short_name": unit.short_name, "kind": unit.kind,
            "doc_code": unit.doc_code,
            "region": {"code": region.code, "name": region.name, "level": region.level}}


# --- describing this instance and linking another ----------------------------------------------------------------

def describe() -> dict:
    """This instance for a neighbour's directory: identity, its own units, and the instances it routes for."""
    from zhengtong.org.models import Unit

    me = local()
    own = Unit.objects.filter(active=True, remote__isnull=True).select_related("region").order_by("pk")
    behind = RemoteInstance.objects.filter(enabled=True).prefetch_related("units__unit__region")
    return {"format": "zhengtong-exchange-directory/1", "instance_id": me.instance_id, "name": me.name,
            "level": me.level, "certificate": me.certificate_pem, "units": [unit_entry(u) for u in own],
            "routes": [{"instance_id": r.instance_id, "name": r.name, "level": r.level,
                        "certificate": r.certificate_pem, "units": [unit_entry(x.unit) for x in r.units.all()]}
                       for r in behind]}


def link(description: dict, *, base_url: str, exclude: set[str] = frozenset()) -> RemoteInstance:
    """Add or refresh a neighbour from its description, and every instance it routes for (reached via it), with
    their units mirrored. The instance's own entry (this platform) and `exclude` are skipped, so two neighbours
    describing each other do not route back and forth."""
    me = local()
    if description.get("format") != "zhengtong-exchange-directory/1":
        raise ServiceError("exchange.invalid_directory", "不是政通交换名录文件")
    with transaction.atomic():
        neighbour = _upsert(description, base_url=base_url.rstrip("/"), via=None)
        for entry in description.get("routes", []):
            if entry["instance_id"] in exclude or entry["instance_id"] == me.instance_id:
                continue
            existing = RemoteInstance.objects.filter(instance_id=entry["instance_id"]).first()
            if existing is not None and existing.base_url:
                continue  # a neighbour of ours is reached directly
            _upsert(entry, base_url="", via=neighbour)
    return neighbour


def _upsert(entry: dict, *, base_url: str, via: RemoteInstance | None) -> RemoteInstance:
    pem = entry["certificate"]
    if identity.instance_of(certificate(pem)) != entry["instance_id"]:
        raise ServiceError("exchange.invalid_directory", f"“{entry['instance_id']}”的证书与平台标识不符")
    if identity.algorithm_of(certificate(pem)) == "unknown":  # an SM2 one without tongsuopy: GmUnavailable
        raise ServiceError("exchange.invalid_directory", f"“{entry['instance_id']}”的证书密钥类型本平台不支持")
    row, _ = RemoteInstance.objects.update_or_create(
        instance_id=entry["instance_id"],
        defaults={"name": entry["name"], "level": entry["level"], "certificate_pem": pem, "base_url": base_url,
                  "via": via})
    for unit in entry.get("units", []):
        mirror_unit(row, unit)
    return row


def route_to(instance_id: str) -> set[str]:
    """The instances an envelope for `instance_id` passes through: the instance and its `via` chain."""
    ids, row, hops = {instance_id}, RemoteInstance.objects.filter(instance_id=instance_id).first(), 0
    while row is not None and row.via_id and hops < MAX_HOPS:
        row, hops = row.via, hops + 1
        ids.add(row.instance_id)
    return ids


def mirror_unit(instance: RemoteInstance, entry: dict, *, move: bool = True) -> RemoteUnit:
    """The local `org.Unit` standing for a remote unit (created or renamed), and its agent identity. `move`: the
    unit may be re-homed to `instance` (the administrator's `link`); an envelope's sender may not."""
    from zhengtong.org.models import Duty, Identity, Person, Region, Unit

    region_entry = entry["region"]
    unit = Unit.objects.filter(credit_code=entry["code"]).select_related("region", "remote__instance",
                                                                                 "remote__agent").first()
    existing = getattr(unit, "remote", None) if unit else None
    if unit is not None and existing is None:
        raise ServiceError("exchange.unit_conflict", f"单位“{unit.name}”是本平台的单位，不能登记为外平台单位")
    if existing is not None and existing.instance_id != instance.pk and not move:
        raise UnitNotTheirs("exchange.unit_not_theirs",
                            f"单位“{unit.name}”属于{existing.instance.name}，“{instance.name}”不能以其名义发文")
    fields = {"name": entry["name"], "short_name": entry.get("short_name", ""), "kind": entry["kind"],
              "doc_code": entry.get("doc_code", "")}
    if existing is not None and existing.instance_id == instance.pk and unit.region.code == region_entry["code"] \
            and all(getattr(unit, name) == value for name, value in fields.items()):
        return existing  # the usual case for every envelope from a known unit: nothing to write
    fields["region"], _ = Region.objects.get_or_create(
        code=region_entry["code"],
        defaults={"name": region_entry["name"], "level": min(max(int(region_entry["level"]), 1), 3)})
    if unit is None:
        unit = Unit.objects.create(credit_code=entry["code"], **fields)
        person = Person.objects.create(name=f"{entry['name']}（外平台）", active=False)
        agent = Identity.objects.create(person=person, unit=unit, duty=Duty.objects.get(code=Duty.DOC_CLERK),
                                        title="外平台交换", is_main=True, active=False)
        return RemoteUnit.objects.create(unit=unit, instance=instance, agent=agent)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.save()  # through save(): the pinyin index follows a rename
    if existing.instance_id != instance.pk:
        existing.instance = instance
        existing.save(update_fields=["instance"])
    return existing
