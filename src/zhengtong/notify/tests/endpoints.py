"""Real local endpoints for the notification tests: an HTTP receiver that answers as an SMS gateway or a group
robot does — and, when scripted, fails, times out or answers slowly — and an SMTP server (aiosmtpd)."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.support import answer_json

OK = {"errcode": 0, "errmsg": "ok", "code": 0, "message": "ok"}


class Receiver:
    """A webhook receiver on a free loopback port. `script` holds the next answers in order: a dict (JSON answer,
    HTTP 200), an int (that HTTP status), "timeout" (answers after `hang` seconds), "slow" (0.3 s, then OK), or
    "drop" (closes the connection without an answer). Past the script every request gets OK."""

    def __init__(self, hang: float = 2.0):
        self.script: list = []
        self.got: list[dict] = []
        self.hang = hang
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall between them

            def do_POST(self):  # noqa: N802 — http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else OK
                    receiver.got.append({"path": self.path, "body": json.loads(raw), "headers": dict(self.headers),
                                         "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)),
                                         "answer": answer})
                if answer == "timeout":
                    time.sleep(receiver.hang)
                    answer = OK
                elif answer == "slow":
                    time.sleep(0.3)
                    answer = OK
                elif answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(answer, int):
                    answer_json(self, answer, b'{"error": "scripted"}')
                else:
                    answer_json(self, 200, json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [g["body"] for g in self.got]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping what arrived; addresses starting with "nobody@" are refused (550)."""

    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 — aiosmtpd's name
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        from email import message_from_bytes, policy

        return [(e.rcpt_tos, message_from_bytes(e.content, policy=policy.default)) for e in self.envelopes]


def start_smtp() -> tuple[Mailbox, Controller]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())  # port 0 does not work in aiosmtpd 1.4.6
    controller.start()
    return box, controller
