"""Install the shipped 发文 / 收文 / 签报 definitions as active platform defaults.

Idempotent: run it after `migrate` on every deployment and from seed_demo (call_command("load_default_flows")).
`--update` replaces an active platform default whose content differs from the shipped file.
"""
import os

from django.core.management.base import BaseCommand

from zhengtong.core.context import acting_as
from zhengtong.flow.services import install_default_definitions


class Command(BaseCommand):
    help = "安装平台默认流程定义（发文、收文、签报），可重复执行"

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="已启用的平台默认流程与内置文件不同时替换为内置文件")

    def handle(self, *args, update=False, **options):
        with acting_as(channel="command", username=f"manage.py load_default_flows ({os.environ.get('USER', '')})"):
            installed = install_default_definitions(update=update)
        for definition in installed:
            self.stdout.write(f"已启用{definition.get_business_type_display()}流程：{definition.name} v{definition.version}")
        if not installed:
            self.stdout.write("平台默认流程已安装，无需更改")
