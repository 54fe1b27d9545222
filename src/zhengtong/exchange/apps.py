from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "zhengtong.exchange"
    verbose_name = "公文交换"

    def ready(self) -> None:
        from zhengtong.documents import page_panels
        from zhengtong.documents.services.outgoing import dispatch_recorded

        from . import panels, services

        dispatch_recorded.connect(services.on_dispatch_recorded, dispatch_uid="exchange.deliver")
        # 发送情况 on the document page: documents looks it up in its registry and imports nothing of exchange
        page_panels.register("exchange.receipts", panels.receipts_panel)
        page_panels.register("exchange.received", panels.received_panel)  # 收文 from the 交换箱: 转发, 打印
