from django.urls import path

from . import import_views, views

app_name = "org"
urlpatterns = [
    # organisation browser and management pages (views.py)
    path("", views.browser, name="browser"),
    path("units/<int:unit_id>/departments/new/", views.department_create, name="department_create"),
    path("departments/<int:department_id>/", views.department_edit, name="department_edit"),
    path("departments/<int:department_id>/deactivate/", views.department_deactivate, name="department_deactivate"),
    path("units/<int:unit_id>/people/new/", views.person_create, name="person_create"),
    path("people/<int:person_id>/", views.person_edit, name="person_edit"),
    path("people/<int:person_id>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("units/<int:unit_id>/identities/new/", views.identity_add, name="identity_add"),
    path("identities/<int:identity_id>/end/", views.identity_end, name="identity_end"),
    path("identities/<int:identity_id>/main/", views.identity_set_main, name="identity_set_main"),
    # AB岗 (linked from the profile page)
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:delegation_id>/revoke/", views.delegation_revoke, name="delegation_revoke"),
    # .xlsx import/export (import_views.py; linked from the 系统管理员 console)
    path("import/", import_views.import_page, name="import"),
    path("import/confirm/", import_views.import_confirm, name="import_confirm"),
    path("export/", import_views.export, name="export"),
]
