from django.urls import path

from . import views, views_reading

app_name = "flow"
urlpatterns = [
    path("", views.worklist, {"box": "todo"}, name="todo"),
    path("done/", views.worklist, {"box": "done"}, name="done"),
    path("toread/", views.worklist, {"box": "toread"}, name="toread"),
    path("read/", views.worklist, {"box": "read"}, name="read"),
    path("mark-read/", views_reading.mark_read, name="mark_read"),
    path("phrases/", views_reading.phrases, name="phrases"),
    path("started/", views.started, name="started"),
    path("start/", views.start_page, name="start"),
    path("instances/<int:instance_id>/", views.instance_page, name="instance"),
    path("<int:task_id>/", views.task_page, name="task"),
    path("<int:task_id>/act/", views.task_action, name="act"),
]
