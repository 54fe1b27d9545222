"""The lockout answer: the same words whether or not the account exists (R7.1).

axes calls `lockout_response` (AXES_LOCKOUT_CALLABLE) for any request it flagged as locked out,
web or API; the web answer is the login page again, with the message and an empty form.
"""
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "登录失败次数过多，请 5 分钟后再试"


def lockout_response(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "auth.locked", "message": LOCKED_MESSAGE}, status=401)
    from .forms import LoginForm
    from .views import login_context

    return render(request, "accounts/login.html", login_context(request, LoginForm(), error=LOCKED_MESSAGE),
                  status=403)
