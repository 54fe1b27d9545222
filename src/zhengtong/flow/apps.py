from django.apps import AppConfig


class FlowConfig(AppConfig):
    name = "zhengtong.flow"
    verbose_name = "流程"
