"""First setup of the three administrators (三员分立, R7.2).

    manage.py create_admin --role secadmin --username secadmin --name 何文涛

Creates a new account holding one role, only while no active account holds that role yet; after
that, roles are granted and revoked by the 安全保密管理员 in the console (/console/secadmin/).
Without --password-env the command generates a password, prints it once, and the account must
change it at first login. Every run is audited.
"""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from zhengtong.accounts import services
from zhengtong.accounts.models import AdminRole
from zhengtong.core.context import acting_as
from zhengtong.core.errors import ServiceError


class Command(BaseCommand):
    help = "创建三员管理员账号（首次部署）：--role sysadmin|secadmin|auditor"

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=[r.value for r in AdminRole])
        parser.add_argument("--username", help="账号，默认与角色同名")
        parser.add_argument("--name", default="", help="姓名")
        parser.add_argument("--password-env", metavar="VAR",
                            help="从该环境变量读取初始密码（不在命令行明文传递）；省略则随机生成")

    def handle(self, *args, role, username=None, name="", password_env=None, **options):
        username = username or role
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"环境变量 {password_env} 未设置或为空")
        with acting_as(channel="command", username=f"manage.py create_admin ({os.environ.get('USER', '')})"):
            try:
                user, generated = services.bootstrap_admin(username=username, role=role, password=password,
                                                           name=name)
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已创建{AdminRole(role).label}账号：{user.username}"))
        if generated:
            self.stdout.write(f"初始密码（仅显示一次，首次登录须修改）：{generated}")
