from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "zhengtong.web"
    verbose_name = "工作台"
