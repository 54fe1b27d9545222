from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "zhengtong.documents"
    verbose_name = "公文"

    def ready(self) -> None:
        from zhengtong.flow import business
        from zhengtong.flow.models import BusinessType
        from zhengtong.flow.signals import participants_changed

        from . import panels, starts
        from .services import common, steps

        participants_changed.connect(common.on_participants_changed, dispatch_uid="documents.search_readers")

        hooks = business.Hooks(before_submit=steps.before_submit, after_submit=steps.after_submit,
                               after_terminate=steps.after_terminate, panel=panels.task_panel)
        for business_type in (BusinessType.DISPATCH, BusinessType.RECEIPT, BusinessType.SIGN_REPORT):
            business.register(business_type, starts.with_start(business_type, hooks))
