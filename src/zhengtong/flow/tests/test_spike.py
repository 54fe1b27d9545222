"""Spike (issue #3): the default definitions run end to end in SpiffWorkflow, in memory, serialized and restored
after every step — the way the task store will hold them. Sizes and times are printed (`-s`), never asserted."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from zhengtong.flow import engine
from zhengtong.flow.extensions import NodeExtensions

DEFINITIONS = Path(__file__).parent.parent / "definitions"


def spec_of(name):
    return engine.load_spec(engine.parse_xml((DEFINITIONS / f"{name}.bpmn").read_bytes()))


def run(name, answers: dict[str, list[dict]], stats: list | None = None) -> list[str]:
    """Complete the first ready user task until the end; `answers[node]` is popped per visit for its data.
    Returns the node ids in the order they were completed."""
    spec, subprocesses = spec_of(name)
    workflow = engine.start(spec, subprocesses)
    done = []
    while not workflow.is_completed():
        ready = engine.ready_user_tasks(workflow)
        assert ready, f"stuck after {done}"
        task = ready[0]
        node = task.task_spec.bpmn_id
        ext = engine.node_extensions(task.task_spec)
        assert isinstance(ext, NodeExtensions) and ext.assignment is not None  # survives the round trip
        queue = answers.get(node, [])
        engine.complete(workflow, task, queue.pop(0) if queue else {})
        done.append(node)
        t0 = time.perf_counter()
        state = engine.dumps(workflow)
        t1 = time.perf_counter()
        workflow = engine.loads(state)
        t2 = time.perf_counter()
        if stats is not None:
            stats.append((node, len(state.encode()), (t1 - t0) * 1000, (t2 - t1) * 1000))
        assert engine.dumps(workflow) == state  # restoring loses nothing
    assert len(done) < 50
    return done


MAIN = ["draft", "dept_review", "office_review"]
TAIL = ["sign", "recheck", "number", "seal", "issue"]


def test_dispatch_without_countersign():
    """R1.5: 起草 → 处室核稿 → 办公室审核 → 签发 → 复核 → 编号 → 用印 → 核发."""
    assert run("dispatch", {}) == MAIN + TAIL


def test_dispatch_with_countersign_of_three_in_parallel():
    stats: list = []
    done = run("dispatch", {"office_review": [{"route": "countersign", "countersign_count": 3}]}, stats)
    assert done == MAIN + ["countersign"] * 3 + TAIL
    node, size, dump_ms, load_ms = max(stats, key=lambda s: s[1])
    print(f"\n[spike] dispatch with 3 countersigners: {len(stats)} steps; largest state after '{node}': "
          f"{size} bytes; serialize {dump_ms:.2f} ms, deserialize {load_ms:.2f} ms")


def test_dispatch_countersign_instances_are_ready_together():
    spec, subprocesses = spec_of("dispatch")
    workflow = engine.start(spec, subprocesses)
    for _ in MAIN[:-1]:
        engine.complete(workflow, engine.ready_user_tasks(workflow)[0])
    engine.complete(workflow, engine.ready_user_tasks(workflow)[0], {"route": "countersign", "countersign_count": 4})
    ready = engine.ready_user_tasks(workflow)
    assert [t.task_spec.bpmn_id for t in ready] == ["countersign"] * 4


def test_dispatch_recheck_sends_a_substantive_change_back_to_the_signer():
    """R1.5: a substantive change after signing goes back to the signer."""
    done = run("dispatch", {"recheck": [{"route": "back_to_signer"}, {"route": ""}]})
    assert done == MAIN + ["sign", "recheck", "sign", "recheck", "number", "seal", "issue"]


def test_receipt_end_to_end_and_returned_to_sender():
    """R1.6: 签收 → 登记 → 初审 → 拟办 → 批示 → 承办 → 传阅; 初审 may return it to the sender."""
    assert run("receipt", {}) == ["sign_in", "register", "first_review", "propose", "instruct", "handle", "circulate"]
    assert run("receipt", {"first_review": [{"route": "return_to_sender"}]}) == ["sign_in", "register",
                                                                                 "first_review"]


def test_sign_report_with_and_without_the_principal():
    base = ["draft", "dept_head", "office", "deputy"]
    assert run("sign_report", {}) == base
    assert run("sign_report", {"deputy": [{"route": "principal"}]}) == base + ["principal"]


@pytest.mark.parametrize("count", [10, 100])
def test_countersign_state_size_grows_with_signers(count):
    """Printed for docs/flow-design.md: the state with `count` open countersign instances."""
    spec, subprocesses = spec_of("dispatch")
    workflow = engine.start(spec, subprocesses)
    for _ in MAIN[:-1]:
        engine.complete(workflow, engine.ready_user_tasks(workflow)[0])
    engine.complete(workflow, engine.ready_user_tasks(workflow)[0], {"route": "countersign", "countersign_count": count})
    assert len(engine.ready_user_tasks(workflow)) == count
    t0 = time.perf_counter()
    state = engine.dumps(workflow)
    t1 = time.perf_counter()
    restored = engine.loads(state)
    t2 = time.perf_counter()
    assert len(engine.ready_user_tasks(restored)) == count
    print(f"\n[spike] {count} open countersign instances: {len(state.encode())} bytes; "
          f"serialize {(t1 - t0) * 1000:.2f} ms, deserialize {(t2 - t1) * 1000:.2f} ms")
