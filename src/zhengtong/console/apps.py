from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "zhengtong.console"
    verbose_name = "管理控制台"
