"""`manage.py federation_init --id city-shifan --name 示范市政通平台 --level city`: this instance's exchange
identity (a key pair, encrypted at rest, and a certificate naming the instance)."""
from django.core.management.base import BaseCommand, CommandError

from zhengtong.core.errors import ServiceError

from ...directory import create_local
from ...identity import ALGORITHMS
from ...models import Level


class Command(BaseCommand):
    help = "生成本平台的公文交换身份（密钥与证书）"

    def add_arguments(self, parser):
        parser.add_argument("--id", required=True, help="平台标识，如 city-shifan")
        parser.add_argument("--name", required=True, help="平台名称")
        parser.add_argument("--level", required=True, choices=Level.values)
        parser.add_argument("--algorithm", default="", choices=["", *ALGORITHMS],
                            help="签名算法，默认取 EXCHANGE_ALGORITHM；sm2 为国密（SM2/SM3）")
        parser.add_argument("--if-missing", action="store_true", help="已有交换身份时不报错")

    def handle(self, *args, **options):
        from ...models import LocalInstance

        if options["if_missing"] and LocalInstance.objects.exists():
            self.stdout.write(f"已有交换身份：{LocalInstance.objects.first()}")
            return
        try:
            row = create_local(instance_id=options["id"], name=options["name"], level=options["level"],
                               algorithm=options["algorithm"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已生成交换身份：{row}")
