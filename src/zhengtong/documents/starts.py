"""Where each 公文 flow starts (flow.business `start_url`): 发文 and 签报 at 拟稿 with the direction chosen, 收文 at the
收发员's 登记. A flow instance without its document would pass 编号, 用印 and 核发 untouched (services.steps), so the
flow's own 发起 page links here and its API refuses these types."""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from django.urls import reverse

from zhengtong.flow.business import Hooks
from zhengtong.flow.models import BusinessType

from .selectors_pages import doc_clerk_unit_ids


def draft_url(direction: str, user) -> str:
    return f"{reverse('documents:new')}?direction={direction}"


def register_url(user) -> str:
    """Only a 收发员 registers 收文 (the registration page refuses everyone else)."""
    return reverse("documents:register") if doc_clerk_unit_ids(user) else ""


STARTS = {
    BusinessType.DISPATCH: (partial(draft_url, "outgoing"), "发文从拟稿开始，填写公文并保存后进入发文流程"),
    BusinessType.SIGN_REPORT: (partial(draft_url, "memo"), "签报从拟稿开始，填写签报并保存后进入签报流程"),
    BusinessType.RECEIPT: (register_url, "收文由本单位收发员签收登记，登记后进入收文流程"),
}


def with_start(business_type: str, hooks: Hooks) -> Hooks:
    url, note = STARTS[business_type]
    return replace(hooks, start_url=url, start_note=note)
