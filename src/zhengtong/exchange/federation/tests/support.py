"""One instance in the test database (this one, "city-test") with a 收发员, a neighbour ("province-test") whose key
the test holds, and a county behind that neighbour; envelopes as that neighbour would send them."""
from __future__ import annotations

import random
from dataclasses import dataclass

from zhengtong.accounts.models import User
from zhengtong.org.credit_code import make_credit_code
from zhengtong.org.models import Duty, Identity, Person, Region, Unit

from .. import directory, identity, transport
from ..envelope import seal_envelope
from ..models import RemoteInstance

PDF = b"%PDF-1.7\n" + bytes(random.Random(5).randrange(256) for _ in range(30_000)) + b"\n%%EOF\n"
LOCAL_CODE = make_credit_code("11519000MB0000002")
REMOTE_CODE = make_credit_code("11529002MB0000003")
REMOTE_UNIT = {"code": REMOTE_CODE, "name": "乙县人民政府办公室", "short_name": "", "kind": "government",
               "doc_code": "乙府办", "region": {"code": "529002", "name": "乙县", "level": 2}}


@dataclass
class World:
    me: str
    unit: Unit
    clerk: User
    neighbour: RemoteInstance
    neighbour_key: identity.InstanceKey
    behind: RemoteInstance
    behind_key: identity.InstanceKey


def build_world(algorithm: str = "ecdsa-p256") -> World:
    """`algorithm`: of this instance and of its neighbour (sm2: 国密 mode on both)."""
    from django.core.management import call_command

    call_command("load_default_flows", verbosity=0)  # 签收 starts the 收文 flow
    directory.create_local(instance_id="city-test", name="测试市平台", level="city", algorithm=algorithm)
    region = Region.objects.create(code="519000", name="示范市", level=Region.Level.CITY)
    unit = Unit.objects.create(name="示范市人民政府办公室", kind=Unit.Kind.GOVERNMENT, credit_code=LOCAL_CODE,
                               region=region, doc_code="示府办")
    user = User.objects.create_user(username="sz.sfy", password="Fed@2026test")
    person = Person.objects.create(name="赵静", user=user)
    Identity.objects.create(person=person, unit=unit, duty=Duty.objects.get(code=Duty.DOC_CLERK), is_main=True)
    neighbour_key = identity.generate("province-test", algorithm=algorithm)
    behind_key = identity.generate("county-behind")
    neighbour = RemoteInstance.objects.create(instance_id="province-test", name="测试省平台", level="province",
                                              certificate_pem=neighbour_key.certificate_pem().decode(),
                                              base_url="http://127.0.0.1:9")
    behind = RemoteInstance.objects.create(instance_id="county-behind", name="邻县平台", level="county",
                                           certificate_pem=behind_key.certificate_pem().decode(), via=neighbour)
    directory.mirror_unit(neighbour, REMOTE_UNIT)
    return World("city-test", unit, user, neighbour, neighbour_key, behind, behind_key)


def document_envelope(key, *, to: str = "city-test", recipients=None, envelope_id=None) -> tuple[str, bytes]:
    return seal_envelope(key, kind="document", to_instance=to, sender_unit=REMOTE_UNIT,
                         recipients=recipients or [{"code": LOCAL_CODE, "name": "示范市人民政府办公室", "kind": "main",
                                                    "copies": 2, "print_limit": 2}],
                         document={"title": "乙县人民政府办公室关于联合开展汛期安全检查的通知", "doc_kind": "通知",
                                   "doc_number": "乙府办〔2026〕9号", "urgency": "", "classification": "",
                                   "body_html": "<p>请做好检查。</p>", "body_text": "请做好检查。",
                                   "signer_names": [], "issued_date": "2026-11-20", "sealed_sha256": ""},
                         files=[("乙府办〔2026〕9号.pdf", "sealed_pdf", PDF)], envelope_id=envelope_id)


def post(client, body: bytes, key, *, to: str = "city-test", at: int | None = None):
    headers = transport.sign_request(key, to, body, at=at)
    content_type = headers.pop("Content-Type")
    return client.post("/federation/v1/envelopes", data=body, content_type=content_type, headers=headers)
