"""`manage.py seed_demo [--if-empty] [--scale F]`: build the fictional 示范市 for demos and benchmarks."""
from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zhengtong.demo.data import DEMO_PASSWORD
from zhengtong.org.models import Unit


def settings_module() -> str:
    return getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE", "")


def refuse_reason() -> str:
    """Why seeding is refused here, or "" when it may run (development and test settings only)."""
    module = settings_module()
    if module.endswith("production"):
        return f"拒绝在生产配置（{module}）下生成演示数据。"
    is_test = module.endswith(".test") or module.endswith("_test")
    if not settings.DEBUG and not is_test:
        return f"拒绝生成演示数据：DEBUG 关闭且不是测试配置（{module or '未知配置'}），可能是生产环境。"
    return ""


class Command(BaseCommand):
    help = "生成演示数据：虚构的示范市（375 个单位、8,165 人、演示账号，密码 Demo@2026）。仅用于开发和演示。"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="数据库中已有单位时什么也不做（make demo 使用）")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="规模系数 (0, 1]：1 为完整的示范市；测试用较小的值以求快")

    def handle(self, *args, if_empty: bool = False, scale: float = 1.0, **options):
        reason = refuse_reason()
        if reason:
            raise CommandError(reason)
        if not 0 < scale <= 1:
            raise CommandError("--scale 必须在 (0, 1] 之间")
        if Unit.objects.exists():
            if if_empty:
                self.stdout.write("数据库中已有单位数据，跳过演示数据生成（--if-empty）。")
                return
            raise CommandError("数据库中已有单位数据。演示数据只能生成在空数据库上：先清空数据库（make clean-db），"
                               "或使用 --if-empty 跳过。")
        from zhengtong.demo.seed import seed_demo_city

        started = time.perf_counter()
        counts = seed_demo_city(scale)
        from zhengtong.demo.flows import seed_demo_flows

        counts["flows"] = seed_demo_flows()
        from zhengtong.exchange.federation.directory import create_local
        from zhengtong.exchange.federation.models import LocalInstance

        if not LocalInstance.objects.exists():  # the exchange identity other platforms will know it by (交换运维)
            create_local(instance_id="city-shifan", name="示范市政通平台", level="city")
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(
            f"示范市演示数据已生成（{elapsed:.1f} 秒）：{counts['units']} 个单位，{counts['departments']} 个内设机构，"
            f"{counts['people']} 人，{counts['identities']} 个身份，{counts['accounts']} 个账号，"
            f"{counts['flows']} 件办理中的公文。"
            f"演示账号密码：{DEMO_PASSWORD}"))
