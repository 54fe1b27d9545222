"""Forms of the login, second-factor and password pages (labels in Chinese)."""
from __future__ import annotations

from django import forms


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True,
                                                             "autocapitalize": "none"}))
    password = forms.CharField(label="密码", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OtpForm(forms.Form):
    token = forms.CharField(label="动态口令", min_length=6, max_length=7,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                          "pattern": "[0-9 ]{6,7}", "autofocus": True,
                                                          "placeholder": "6 位数字"}),
                            error_messages={"required": "请输入动态口令", "min_length": "动态口令为 6 位数字",
                                            "max_length": "动态口令为 6 位数字"})

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if len(token) != 6 or not token.isdigit():
            raise forms.ValidationError("动态口令为 6 位数字")
        return token


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="原密码", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label="新密码", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text="密码至少 8 位，且须包含大写字母、小写字母、数字、特殊字符中的至少 3 类")
    new_password2 = forms.CharField(label="确认新密码", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", "两次输入的新密码不一致")
        return data

