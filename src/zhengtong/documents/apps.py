from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "zhengtong.documents"
    verbose_name = "公文"

    def ready(self) -> None:
        from zhengtong.flow import business
        from zhengtong.flow.models import BusinessType

        from . import panels
        from .services import steps

        hooks = business.Hooks(before_submit=steps.before_submit, after_submit=steps.after_submit,
                               after_terminate=steps.after_terminate, panel=panels.task_panel)
        for business_type in (BusinessType.DISPATCH, BusinessType.RECEIPT, BusinessType.SIGN_REPORT):
            business.register(business_type, hooks)
