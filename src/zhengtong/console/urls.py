"""The three administrators' consoles (三员分立, R7.2): each role's pages live in their own module."""
from . import urls_auditor, urls_secadmin, urls_sysadmin

app_name = "console"
urlpatterns = urls_sysadmin.urlpatterns + urls_secadmin.urlpatterns + urls_auditor.urlpatterns
