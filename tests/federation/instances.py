"""Platform instances as separate processes for the federation tests: each with its own DATA_DIR, database
(SQLite there, or its own PostgreSQL database when the suite runs on PostgreSQL), Huey queue, gunicorn web server
and Huey worker on a loopback port."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NODE = Path(__file__).resolve().parent / "node.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name: str) -> str:
    """A fresh database for one instance: PostgreSQL when the suite runs there, else SQLite in its DATA_DIR."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return ""
    import psycopg

    server = base.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


class Instance:
    def __init__(self, role: str, root: Path, *, retry_base: float = 0.5, algorithm: str = "ecdsa-p256"):
        self.role, self.port = role, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = root / role
        self.data.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY"}}
        self.env.update({"DJANGO_SETTINGS_MODULE": "zhengtong.settings.dev", "DEBUG": "false",
                         "DATA_DIR": str(self.data), "ALLOWED_HOSTS": "127.0.0.1,localhost",
                         "SECRET_KEY": f"federation-test-{role}-" + "x" * 40, "PYTHONUNBUFFERED": "1",
                         "EXCHANGE_RETRY_BASE_SECONDS": str(retry_base), "EXCHANGE_ALGORITHM": algorithm})
        url = database_url(f"test_fed_{role}_{os.getpid()}")
        if url:
            self.env["DATABASE_URL"] = url
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def manage(self, *args, timeout=300) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"{self.role}: manage.py {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def node(self, *args, timeout=300):
        done = subprocess.run([sys.executable, str(NODE), *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"{self.role}: node {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    def log(self, name: str):
        return (self.data / f"{name}.log").open("ab")

    def start_web(self, workers: int = 2) -> None:
        self.web = subprocess.Popen([sys.executable, "-m", "gunicorn", "zhengtong.wsgi", "-b",
                                     f"127.0.0.1:{self.port}", "-w", str(workers), "--timeout", "120"],
                                    cwd=REPO, env=self.env, stdout=self.log("web"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.web.poll() is None, self.read_log("web")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise AssertionError(f"{self.role} web did not start\n{self.read_log('web')}")

    def start_worker(self, workers: int = 2) -> None:
        self.worker = subprocess.Popen([sys.executable, "manage.py", "run_huey", "--workers", str(workers),
                                        "--flush-locks"],
                                       cwd=REPO, env=self.env, stdout=self.log("worker"), stderr=subprocess.STDOUT)

    def read_log(self, name: str) -> str:
        path = self.data / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self, which: str, sig=signal.SIGKILL) -> None:
        proc = getattr(self, which)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        setattr(self, which, None)

    def kill_tree(self, which: str, sig=signal.SIGKILL) -> None:
        """Like `kill`, but the process's descendants too (gunicorn's workers: killing only the master leaves
        them serving the port until they notice); each by its pid, children first seen before the signal."""
        proc = getattr(self, which)
        if proc is not None and proc.poll() is None:
            family = descendants(proc.pid)
            proc.send_signal(sig)
            for pid in family:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            proc.wait(timeout=30)
            deadline = time.monotonic() + 30
            while any(map(alive, family)) and time.monotonic() < deadline:
                time.sleep(0.1)
        setattr(self, which, None)

    def stop(self) -> None:
        for which in ("web", "worker"):
            self.kill(which, signal.SIGTERM)


def descendants(pid: int) -> list[int]:
    """The pids below `pid` (Linux /proc), deepest last."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
        except OSError:
            children = []
        found += children
        todo += children
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def link(instance: Instance, neighbour: Instance, description: dict) -> None:
    path = instance.data / f"{neighbour.role}.json"
    path.write_text(json.dumps(description, ensure_ascii=False))
    instance.manage("federation_link", str(path), "--url", neighbour.url)


def describe(instance: Instance) -> dict:
    return json.loads(instance.manage("federation_describe"))


def wait_for(check, *, timeout: float = 120, every: float = 0.5, what: str = ""):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}: last {last!r}")
