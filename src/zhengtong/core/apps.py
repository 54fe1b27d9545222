from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zhengtong.core"
    verbose_name = "核心"
