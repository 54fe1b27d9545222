from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "zhengtong.exchange.federation"
    label = "federation"
    verbose_name = "跨平台公文交换"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 — registers the outbox tasks with Huey
