"""Authentication API: tokens (POST /api/v1/auth/token, /revoke) and the caller (GET /api/v1/me).

Public contract (kept stable; see docs/security.md): failures are 401 with
`{"code": "auth.invalid_credentials" | "auth.locked" | "auth.otp_required" | "auth.password_expired",
"message"}`; too many token requests from one address are 429 `{"code": "auth.rate_limited"}`.
"""
from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from . import services
from .auth import BearerToken
from .permissions import admin_roles

router = Router(tags=["auth"])  # mounted at /api/v1/auth
me_router = Router(tags=["me"])  # mounted at /api/v1/


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str
    expires_at: datetime


class ErrorOut(Schema):
    code: str
    message: str


class RevokedOut(Schema):
    revoked: bool


class PersonOut(Schema):
    id: int | None
    name: str
    username: str


class Ref(Schema):
    id: int
    name: str


class DutyOut(Schema):
    code: str
    name: str


class IdentityOut(Schema):
    id: int
    unit: Ref
    department: Ref | None
    duty: DutyOut
    title: str
    main: bool


class MeOut(Schema):
    person: PersonOut
    identities: list[IdentityOut]
    admin_roles: list[str]


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut},
             summary="取得接口令牌")
def issue_token(request, payload: TokenIn):
    """Username + password (+ `otp` when the account uses a second factor) → a bearer token.

    The same rules as the web login: 5 failures lock the account for 5 minutes (`auth.locked`);
    an expired password must first be changed in the web UI (`auth.password_expired`).
    """
    token, expires_at = services.issue_api_token(request, username=payload.username, password=payload.password,
                                                 otp=payload.otp)
    return {"token": token, "expires_at": expires_at}


@router.post("/revoke", auth=[BearerToken()], response={200: RevokedOut, 401: ErrorOut}, summary="撤销当前令牌")
def revoke_token(request):
    services.revoke_api_token(request.auth, request.api_token)
    return {"revoked": True}


@me_router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户及其身份")
def me(request):
    user = request.user
    person = getattr(user, "person", None)
    identities = []
    if person is not None:
        for identity in person.identities.filter(active=True).select_related("unit", "department", "duty"):
            identities.append({
                "id": identity.pk,
                "unit": {"id": identity.unit_id, "name": identity.unit.name},
                "department": ({"id": identity.department_id, "name": identity.department.name}
                               if identity.department_id else None),
                "duty": {"code": identity.duty.code, "name": identity.duty.name},
                "title": identity.title,
                "main": identity.is_main,
            })
    return {
        "person": {"id": person.pk if person else None, "name": user.display_name, "username": user.username},
        "identities": identities,
        "admin_roles": sorted(admin_roles(user)),
    }
