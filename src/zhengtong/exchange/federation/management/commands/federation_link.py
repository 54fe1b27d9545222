"""`manage.py federation_link city.json --url https://city.example/`: add (or refresh) a neighbour instance from
its directory entry; the instances it routes for and their units become reachable through it."""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zhengtong.audit.services import record
from zhengtong.core.context import acting_as
from zhengtong.core.errors import ServiceError

from ...directory import link


class Command(BaseCommand):
    help = "导入相邻平台的交换名录"

    def add_arguments(self, parser):
        parser.add_argument("file", help="相邻平台 federation_describe 的输出")
        parser.add_argument("--url", required=True, help="相邻平台的地址，如 https://city.example/")
        parser.add_argument("--exclude", action="append", default=[],
                            help="不经此平台转交的平台标识（可多次）")

    def handle(self, *args, file, url, exclude, **options):
        try:
            description = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"无法读取交换名录：{exc}") from exc
        try:
            with acting_as(channel="cli", username="federation_link", user_id=None, ip=""):
                neighbour = link(description, base_url=url, exclude=set(exclude))
                record("exchange.peer_linked", obj=neighbour, detail={"instance": neighbour.instance_id, "url": url})
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        units = neighbour.units.count()
        self.stdout.write(f"已连接相邻平台：{neighbour}，{units} 个单位")
