"""What the operations console shows: per neighbour its queue and health, stuck and dead-lettered envelopes, and
the envelopes refused on arrival (from the security audit)."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Envelope, LocalInstance, RemoteInstance

STUCK_AFTER = timedelta(minutes=10)


def health(peer: RemoteInstance, queued: int, oldest) -> tuple[str, str]:
    """(label, badge class): 正常 after a recent success with nothing stuck, 异常 while failing, 未知 before any."""
    if peer.failures and (peer.last_failure_at and (not peer.last_success_at
                                                    or peer.last_failure_at > peer.last_success_at)):
        return "异常", "badge-red"
    if oldest and timezone.now() - oldest > STUCK_AFTER:
        return "积压", "badge-red"
    if peer.last_success_at:
        return "正常", "badge-green"
    return "未知", ""


def overview() -> dict:
    queues = {row["peer"]: row for row in Envelope.objects.filter(direction=Envelope.Direction.OUT,
                                                                  status=Envelope.Status.PENDING)
              .values("peer").annotate(n=Count("pk"), oldest=Min("created_at"))}
    dead = dict(Envelope.objects.filter(direction=Envelope.Direction.OUT, status=Envelope.Status.DEAD)
                .values_list("peer").annotate(n=Count("pk")))
    peers = []
    for peer in (RemoteInstance.objects.select_related("via").annotate(unit_count=Count("units"))
                 .order_by("level", "instance_id")):
        queue = queues.get(peer.pk, {})
        label, badge = health(peer, queue.get("n", 0), queue.get("oldest")) if peer.base_url else ("经转", "")
        peers.append({"peer": peer, "queued": queue.get("n", 0), "oldest": queue.get("oldest"),
                      "dead": dead.get(peer.pk, 0), "health": label, "badge": badge, "units": peer.unit_count})
    now = timezone.now()
    return {
        "me": LocalInstance.objects.first(), "peers": peers,
        "dead": list(Envelope.objects.filter(direction=Envelope.Direction.OUT, status=Envelope.Status.DEAD)
                     .select_related("peer").order_by("-pk")[:50]),
        "stuck": list(Envelope.objects.filter(direction=Envelope.Direction.OUT, status=Envelope.Status.PENDING)
                      .filter(Q(attempts__gt=0) | Q(created_at__lt=now - STUCK_AFTER))
                      .select_related("peer").order_by("created_at")[:50]),
        "received": Envelope.objects.filter(direction=Envelope.Direction.IN, done_at__gte=now - timedelta(days=1))
                    .count(),
        "sent": Envelope.objects.filter(direction=Envelope.Direction.OUT, status=Envelope.Status.SENT,
                                        done_at__gte=now - timedelta(days=1)).count(),
    }


def refused_on_arrival(limit: int = 20):
    from zhengtong.audit.models import AuditRecord

    return list(AuditRecord.objects.filter(action="exchange.envelope_refused").order_by("-seq")[:limit])
