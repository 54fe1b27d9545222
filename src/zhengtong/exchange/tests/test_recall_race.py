"""Recall racing 签收 (issue #5 §3): the sender's 撤回 and the recipient's 签收 of the same delivery at the same
moment — exactly one wins, the loser gets a 409 saying what happened, and nothing half-done is left (no incoming
document for a recalled delivery). Needs row locks shared by threads: PostgreSQL only."""
from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from zhengtong.accounts.models import User
from zhengtong.core.errors import Conflict
from zhengtong.documents.models import Document
from zhengtong.exchange import services
from zhengtong.exchange.models import Delivery

from .support import clerk_unit, dispatched

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_recall_racing_sign_has_exactly_one_winner():
    call_command("seed_demo", scale=0.05)
    sender, recipient = User.objects.get(username="bgs.sfy"), User.objects.get(username="jyj.sfy")
    winners = []
    for _ in range(ROUNDS):
        document = dispatched(Client(), main=[clerk_unit("jyj.sfy")])
        delivery = Delivery.objects.get(document=document)
        barrier = threading.Barrier(2)
        outcome: dict = {}

        def run(name, call, user, pk, barrier=barrier, outcome=outcome):
            try:
                barrier.wait(timeout=30)
                call(user, pk)
                outcome[name] = "ok"
            except Conflict as exc:
                outcome[name] = exc.code
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=("recall", services.recall_delivery, sender, delivery.pk)),
                   threading.Thread(target=run, args=("sign", services.sign_delivery, recipient, delivery.pk))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcome.values()).count("ok") == 1, outcome
        delivery.refresh_from_db()
        incoming = Document.objects.filter(direction="incoming", source_number=document.doc_number)
        if outcome["recall"] == "ok":
            assert outcome["sign"] == "exchange.recalled" and delivery.status == "recalled" and not incoming.exists()
        else:
            assert outcome["recall"] == "exchange.already_signed" and delivery.status == "signed"
            assert incoming.get().pk == delivery.incoming_id
        winners.append(next(k for k, v in outcome.items() if v == "ok"))
    assert len(winners) == ROUNDS
