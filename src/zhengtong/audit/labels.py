"""Chinese labels for audit actions, shown in the auditor's console and the export.

An action missing here is shown by its code; later issues add their own actions to ACTION_LABELS
(one line each) and their prefix to ACTION_PREFIXES when they start a new namespace.
"""
from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

ACTION_PREFIXES = [
    ("auth.", "登录与认证"),
    ("accounts.", "账号与安全"),
    ("permission.", "越权访问"),
    ("console.", "控制台"),
    ("api.", "接口"),
    ("org.", "组织机构"),
    ("calendar.", "工作日历"),
    ("notice.", "通知公告"),
    ("audit.", "审计"),
    ("demo.", "演示数据"),
    ("exchange.", "公文交换"),
]

ACTION_LABELS = {
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "账号锁定",
    "auth.rate_limited": "登录过于频繁",
    "auth.otp_verified": "动态口令验证通过",
    "auth.otp_failed": "动态口令错误",
    "auth.idle_timeout": "空闲超时退出",
    "auth.cert_login_failed": "证书登录失败",
    "auth.superuser_refused": "拒绝超级用户登录",
    "auth.token_issued": "签发接口令牌",
    "auth.token_revoked": "吊销接口令牌",
    "auth.token_refused": "拒绝签发接口令牌",
    "accounts.password_changed": "修改密码",
    "accounts.password_change_failed": "修改密码失败",
    "accounts.password_reset": "重置密码",
    "accounts.otp_enrollment_started": "开始绑定动态口令",
    "accounts.otp_enrollment_failed": "绑定动态口令失败",
    "accounts.otp_enrolled": "绑定动态口令",
    "accounts.otp_removed": "解绑动态口令",
    "accounts.otp_remove_refused": "拒绝解绑动态口令",
    "accounts.otp_reset": "重置动态口令",
    "accounts.role_granted": "授予三员角色",
    "accounts.role_revoked": "撤销三员角色",
    "accounts.role_grant_refused": "拒绝授予三员角色",
    "accounts.policy_updated": "修改安全策略",
    "accounts.user_security_updated": "修改账号安全设置",
    "accounts.unlocked": "解锁账号",
    "accounts.deactivated": "停用账号",
    "accounts.reactivated": "启用账号",
    "accounts.operation_refused": "拒绝账号操作",
    "accounts.admin_bootstrapped": "初始化三员账号",
    "permission.denied": "越权访问被拒绝",
    "console.denied": "控制台访问被拒绝",
    "api.forbidden": "接口访问被拒绝",
    "calendar.day_set": "设置节假日/调休",
    "calendar.day_removed": "删除节假日/调休",
    "calendar.imported": "导入节假日安排",
    "calendar.year_confirmed": "确认年度节假日安排",
    "calendar.year_unconfirmed": "取消确认年度节假日安排",
    "notice.publish": "发布通知公告",
    "audit.purged": "清理过期审计记录",
    "audit.chain_verified": "审计链校验通过",
    "audit.chain_broken": "审计链校验发现断裂",
    "audit.verify_requested": "请求校验审计链",
    "audit.exported": "导出审计记录",
    "demo.seed": "生成演示数据",
    "exchange.statistics_exported": "导出收发统计",
}

OBJECT_LABELS = {
    "audit.chain": "审计链",
    "exchange.statistics": "收发统计",
}

DETAIL_LABELS = {
    "channel": "渠道", "reason": "原因", "needs": "所需权限", "role": "角色", "console": "控制台", "path": "路径",
    "code": "错误代码", "operation": "操作", "devices": "动态口令设备数", "replaced_devices": "替换的设备数",
    "token_id": "令牌ID", "attempts_cleared": "清除的失败记录数", "platform_wide": "全平台",
    "summary": "结果", "checked": "已校验条数", "first_seq": "起始序号", "last_seq": "截止序号",
    "head_seq": "链头序号", "head_hash": "链头哈希", "purged_through": "已清理至序号", "seconds": "用时（秒）",
    "requested_by": "发起人账号ID", "broken": "断裂位置", "before": "清理截止日期", "retention_days": "保存期限（天）",
    "deleted": "删除条数", "last_hash": "最后删除记录的哈希", "filter": "筛选条件", "rows": "行数",
}

CHANNEL_LABELS = {"web": "网页", "api": "接口", "command": "命令", "task": "后台任务", "system": "系统"}
CATEGORY_LABELS = {"security": "安全事件", "business": "业务操作"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_type_label(object_type: str) -> str:
    if object_type in OBJECT_LABELS:
        return OBJECT_LABELS[object_type]
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def field_label(object_type: str, name: str) -> str:
    """The verbose name of a changed field (`is_active` → 有效), else the name itself."""
    model = _model(object_type)
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)  # also finds a relation by its attname (unit_id)
    except FieldDoesNotExist:
        return name


def _model(object_type: str):
    if "." not in object_type:
        return None
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None
