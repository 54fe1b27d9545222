from django.apps import AppConfig


class FlowConfig(AppConfig):
    name = "zhengtong.flow"
    verbose_name = "流程"

    def ready(self) -> None:
        from zhengtong.web import workspace

        from . import selectors

        # the workspace home shows these (one indexed COUNT each, flow_task_todo)
        workspace.register(workspace.Counter("todo", "待办", "flow:todo", lambda user: selectors.box_count(user, "todo")))
        workspace.register(workspace.Counter("toread", "待阅", "flow:toread",
                                             lambda user: selectors.box_count(user, "toread")))
