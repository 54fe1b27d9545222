from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "zhengtong.notify"
    verbose_name = "消息提醒"

    def ready(self) -> None:
        from . import receivers, tasks  # noqa: F401 — connects the event receivers, registers the Huey tasks

        receivers.connect()
