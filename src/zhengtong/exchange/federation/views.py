"""The endpoint neighbours POST envelopes to. Not a user page: no session, no CSRF token — the transport signature
and the envelope's own signature are the authentication (federation.transport, federation.envelope)."""
from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhengtong.core.errors import ServiceError

from . import inbox
from .envelope import MAX_MANIFEST, MAX_TOTAL


@csrf_exempt
@require_POST
def envelopes(request):
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    if not 0 < length <= MAX_TOTAL + MAX_MANIFEST:
        return JsonResponse({"code": "exchange.envelope_too_large", "message": "交换包为空或过大"}, status=413)
    ip = request.META.get("REMOTE_ADDR", "")
    try:
        # before reading a body of up to 512 MB: only a known neighbour may send one (its signature is checked next)
        known = inbox.require_neighbour(request.headers, ip=ip, size=length)
        body = request.read(length)  # not request.body: DATA_UPLOAD_MAX_MEMORY_SIZE is for forms; envelopes are larger
        result = inbox.receive(request.headers, body, ip=ip, known=known)
    except ServiceError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(result)
