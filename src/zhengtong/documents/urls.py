from django.urls import path

from . import views, views_numbers

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("new/", views.new_document, name="new"),
    path("register/", views.register_incoming, name="register"),
    path("search/", views.search, name="search"),
    path("numbers/", views_numbers.number_register, name="numbers"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/", views.act, name="act"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/verification/", views.verification, name="verification"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
