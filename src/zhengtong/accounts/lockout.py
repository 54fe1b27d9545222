"""The lockout answer: the same words whether or not the account exists (R7.1)."""
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "登录失败次数过多，请 5 分钟后再试"


def lockout_response(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "auth.locked", "message": LOCKED_MESSAGE}, status=401)
    return render(request, "accounts/login.html", {"error": LOCKED_MESSAGE}, status=403)
