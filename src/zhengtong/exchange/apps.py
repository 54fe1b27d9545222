from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "zhengtong.exchange"
    verbose_name = "公文交换"

    def ready(self) -> None:
        from zhengtong.documents.services.outgoing import dispatch_recorded

        from . import services

        dispatch_recorded.connect(services.on_dispatch_recorded, dispatch_uid="exchange.deliver")
