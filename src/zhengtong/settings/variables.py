"""Every environment variable the platform reads, declared once.

The settings modules read values through `value()`; `manage.py config_docs` renders this list into
docs/configuration.md, and a test fails when the two drift apart.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    production: str = ""  # what changes under production settings

    def read(self) -> str:
        return os.environ.get(self.name, self.default)


VARIABLES: list[Variable] = [
    Variable("DJANGO_SETTINGS_MODULE", "zhengtong.settings.dev",
             "Settings module: `zhengtong.settings.dev` (demo, embedded), `.test` (tests), `.production`."),
    Variable("SECRET_KEY", "", "Key for signing sessions and tokens. Generated per checkout under `var/` when empty "
             "(development only).", "required"),
    Variable("DEBUG", "true", "Show tracebacks. Development only.", "always off"),
    Variable("ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names the server answers to."),
    Variable("CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins (scheme://host) trusted for CSRF behind a proxy."),
    Variable("DATABASE_URL", "", "Database URL. Empty: SQLite in `var/zhengtong.sqlite3` (WAL). Example: "
             "`postgres://user@127.0.0.1:5432/zhengtong`.", "required, PostgreSQL"),
    Variable("REDIS_URL", "", "Redis URL for the task queue (Huey) and the cache. Empty: Huey on SQLite in `var/`, "
             "local-memory cache."),
    Variable("DATA_DIR", "var", "Directory for the embedded database, task queue, uploaded files and keys."),
    Variable("MEDIA_ROOT", "", "Directory for uploaded files when no object storage is configured. Empty: "
             "`DATA_DIR/media`."),
    Variable("S3_BUCKET", "", "S3-compatible bucket for files. Empty: local directory."),
    Variable("S3_ENDPOINT_URL", "", "Endpoint of the S3-compatible object storage (MinIO, Ceph, a cloud)."),
    Variable("S3_ACCESS_KEY", "", "Access key for the object storage."),
    Variable("S3_SECRET_KEY", "", "Secret key for the object storage."),
    Variable("S3_REGION", "", "Region name for the object storage, when it needs one."),
    Variable("TIME_ZONE", "Asia/Shanghai", "Time zone for dates shown and deadlines computed."),
    Variable("OFFICE_HOURS", "08:30-12:00,14:00-17:30", "Office hours of a working day, local time, comma-separated "
             "`HH:MM-HH:MM` spans: what a deadline in working hours counts (nights, weekends and holidays skipped), "
             "e.g. 签收 within `EXCHANGE_SIGN_LIMIT_HOURS`."),
    Variable("EXCHANGE_SIGN_LIMIT_HOURS", "4", "Working hours within which a received document should be signed for "
             "(签收); later ones count as overdue in the exchange statistics (收发统计)."),
    Variable("EXCHANGE_MAX_ATTEMPTS", "60", "Attempts to deliver an envelope to a neighbour instance before it is "
             "dead-lettered (backoff doubles from `EXCHANGE_RETRY_BASE_SECONDS`, at most an hour apart: 60 is about "
             "two days, so a weekend outage of a peer does not send documents back); a document that cannot be "
             "delivered comes back to its sender as 退文 with the reason."),
    Variable("EXCHANGE_RETRY_BASE_SECONDS", "5", "First retry delay of the exchange outbox, in seconds."),
    Variable("EXCHANGE_ALGORITHM", "ecdsa-p256", "Signature algorithm of this instance's exchange identity, used "
             "when it is created (`federation_init`, the demo): `ecdsa-p256`, `ed25519`, or `sm2` — 国密 mode, SM2 "
             "with SM3 and an SM2 certificate; needs the `gm` extra (tongsuopy). Instances with different algorithms "
             "exchange with each other as long as each can verify the other's (SM2 peers need tongsuopy too)."),
    Variable("ATTACHMENT_MAX_MB", "100", "Largest attachment of a 公文 in MB (pdf, ofd, docx, xlsx, wps, images)."),
    Variable("FONT_DIR", "", "Directory of the fonts for GB/T 9704 PDFs (仿宋, 小标宋, 黑体, 楷体 as TrueType). Empty: "
             "`var/fonts` (filled by `scripts/install-fonts.sh` with the free Fandol fonts; put licensed "
             "方正小标宋/仿宋_GB2312 files there to use them)."),
    Variable("SEAL_MASTER_KEY", "", "Base64 key (32 bytes) that encrypts the seal, CA and exchange-identity private keys at rest (AES-256-GCM). "
             "Empty: a key file generated under DATA_DIR (development only).", "required"),
    Variable("PASSWORD_MAX_AGE_DAYS", "90", "Days after which a password must be changed (R7.1). 0 = never; "
             "the 安全保密管理员 can change it in the console."),
    Variable("IDLE_TIMEOUT_MINUTES", "30", "Minutes of inactivity after which a session ends (R7.1)."),
    Variable("LOCKOUT_FAILURES", "5", "Failed logins that lock an account (R7.1)."),
    Variable("LOCKOUT_MINUTES", "5", "Minutes an account stays locked (R7.1)."),
    Variable("API_TOKEN_HOURS", "12", "Lifetime of an API bearer token."),
    Variable("CLIENT_CERT_HEADER", "", "Request header in which the reverse proxy passes the verified client "
             "certificate's subject (USB key login), e.g. `HTTP_X_SSL_CLIENT_S_DN`. Empty: certificate login off."),
    Variable("CLIENT_CERT_VERIFY_HEADER", "HTTP_X_SSL_CLIENT_VERIFY", "Header in which the proxy says whether it "
             "verified the certificate; only `SUCCESS` is accepted."),
    Variable("TRUSTED_PROXY_IPS", "127.0.0.1", "Comma-separated addresses of reverse proxies whose "
             "X-Forwarded-For and client-certificate headers are believed."),
    Variable("AUDIT_RETENTION_DAYS", "180", "Days audit records are kept at least: `manage.py purge_audit` refuses "
             "to remove younger records. A value below 180 counts as 180 (R7.1). See docs/audit.md."),
    Variable("EMAIL_HOST", "127.0.0.1", "SMTP server for notifications."),
    Variable("EMAIL_PORT", "25", "SMTP port."),
    Variable("DEFAULT_FROM_EMAIL", "zhengtong@localhost", "Sender address of notifications."),
    Variable("SITE_URL", "http://127.0.0.1:8000", "Address of this platform as users reach it: the links in "
             "notification emails, SMS and robot messages."),
    Variable("NOTIFY_EMAIL_ENABLED", "false", "Send notifications by email over `EMAIL_HOST` (`true`/`false`). Off "
             "until an SMTP server is configured; the in-app centre always works."),
    Variable("NOTIFY_SIGN_REMINDER_TIMES", "09:00,11:00,14:30,16:30", "Local times of working days at which 收发员 "
             "are reminded of documents waiting for 签收 in their 交换箱 (comma-separated `HH:MM`)."),
    Variable("NOTIFY_DIGEST_TIME", "08:30", "Local time at which the daily digest goes to people who chose it."),
    Variable("NOTIFY_MAX_ATTEMPTS", "8", "Attempts to send a notification on a channel before it is dead-lettered "
             "(backoff doubles from `NOTIFY_RETRY_BASE_SECONDS`, at most an hour apart)."),
    Variable("NOTIFY_RETRY_BASE_SECONDS", "30", "First retry delay of the notification outbox, in seconds."),
    Variable("NOTIFY_CHANNEL_PLUGINS", "", "Extra notification channels, comma-separated `name=dotted.path.Class` "
             "(e.g. a province's own SMS gateway); see docs/notifications.md."),
    Variable("ALLOW_SUPERUSER", "", "Allow Django superuser accounts (`true`/`false`). Empty: allowed only in "
             "development settings (R7.2).", "always off"),
]

BY_NAME = {v.name: v for v in VARIABLES}


def value(name: str) -> str:
    return BY_NAME[name].read()


def flag(name: str) -> bool:
    return value(name).strip().lower() in {"1", "true", "yes", "on"}


def integer(name: str) -> int:
    return int(value(name))


def items(name: str) -> list[str]:
    return [part.strip() for part in value(name).split(",") if part.strip()]


def render_markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "Generated from `src/zhengtong/settings/variables.py` by `python manage.py config_docs`; "
        "do not edit by hand (a test compares the two).",
        "",
        "| variable | default | meaning | under production settings |",
        "| --- | --- | --- | --- |",
    ]
    for v in VARIABLES:
        default = f"`{v.default}`" if v.default else "(empty)"
        lines.append(f"| `{v.name}` | {default} | {v.meaning} | {v.production} |")
    return "\n".join(lines) + "\n"
