"""`make demo` in miniature: a fresh SQLite database is migrated and seeded, scripts/run-demo.sh starts the
web server and the Huey worker, the login page answers, and Ctrl-C (SIGINT to the process group) stops both."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY"}}
    env.update({"DJANGO_SETTINGS_MODULE": "zhengtong.settings.dev", "DEBUG": "true", "DATA_DIR": str(data_dir),
                "PY": sys.executable, "HOST": "127.0.0.1", "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    return env


def manage(env, *args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def group_commands(pgid: int) -> list[str]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == pgid:
                out.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return out


def test_seed_and_server_start_serve_the_login_page(tmp_path):
    port = free_port()
    env = demo_env(tmp_path, port)
    migrated = manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    flows = manage(env, "load_default_flows")
    assert flows.returncode == 0, flows.stderr
    seeded = manage(env, "seed_demo", "--if-empty")
    assert seeded.returncode == 0, seeded.stderr
    assert "375 个单位" in seeded.stdout and "8165 人" in seeded.stdout
    assert (tmp_path / "zhengtong.sqlite3").exists()

    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(["bash", "scripts/run-demo.sh"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    pgid = proc.pid
    try:
        body, deadline = "", time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as resp:
                    if resp.status == 200:
                        body = resp.read().decode()
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert 'name="username"' in body and 'name="password"' in body, (tmp_path / "demo.log").read_text()
        commands = group_commands(pgid)
        assert any("run_huey" in c for c in commands), commands
        assert any("runserver" in c for c in commands), commands
        assert "Demo@2026" in (tmp_path / "demo.log").read_text()
    finally:
        os.killpg(pgid, signal.SIGINT)  # what Ctrl-C in the terminal does
        deadline = time.monotonic() + 30  # the script gives its children 10 s before killing them
        while time.monotonic() < deadline:
            if proc.poll() is not None and not group_alive(pgid):  # poll() reaps the script, or it stays a zombie
                break
            time.sleep(0.2)
        stray = group_commands(pgid)
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()
    assert not stray, f"still running after Ctrl-C: {stray}\n{(tmp_path / 'demo.log').read_text()}"
