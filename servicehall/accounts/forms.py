"""Forms validate input only; actions.py changes state."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import (
    id_number_error,
    is_valid_cn_mobile,
    normalize_cn_mobile,
    normalize_id_number,
)

from .models import CitizenProfile, User
from .signin import resolve_username

# Han characters (with extensions A/B...), the interpunct of minority and foreign names,
# Latin letters and spaces.
_NAME = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134fA-Za-z·• ]{2,30}$")


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


class LoginForm(_Form):
    # Named "username" so django-axes finds it in request.POST.
    username = forms.CharField(
        label=_("账号"),
        max_length=64,
        help_text=_("个人用户：手机号码或身份证号码；民警：警号。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("账号或密码不正确。连续多次输入错误，账号将被暂时锁定。"),
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        identifier = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if identifier and password:
            self.user = authenticate(
                self.request, username=resolve_username(identifier), password=password
            )
            if self.user is None:
                raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return self.cleaned_data


class OTPForm(_Form):
    token = forms.CharField(
        label=_("动态口令"),
        max_length=16,
        help_text=_("请输入身份验证器 App 上显示的6位数字，或一个备用验证码。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self):
        token = re.sub(r"\s+", "", self.cleaned_data["token"])
        if not re.fullmatch(r"[0-9A-Za-z]{6,16}", token):
            raise ValidationError(_("动态口令格式不正确。"), code="invalid_token")
        return token


class RegistrationForm(_Form):
    name = forms.CharField(
        label=_("姓名"),
        max_length=30,
        help_text=_("与居民身份证上的姓名一致。"),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=24,
        help_text=_("18位居民身份证号码，末位X不区分大小写。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label=_("设置密码"),
        strip=False,
        max_length=128,
        help_text=_("至少8位，不能全是数字，不能与个人信息相似，也不能是常用密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_name(self):
        name = re.sub(r"\s+", " ", self.cleaned_data["name"]).strip()
        if not _NAME.match(name):
            raise ValidationError(
                _("请输入与身份证一致的姓名（2至30个字，可含“·”）。"), code="invalid_name"
            )
        return name

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data["id_number"])
        error = id_number_error(number)
        if error:
            raise ValidationError(error, code="invalid_id_number")
        if CitizenProfile.objects.filter(id_number=number).exists():
            raise ValidationError(
                _("该身份证号码已注册。如忘记密码，请携带身份证到窗口办理或联系客服。"),
                code="duplicate_id_number",
            )
        return number

    def clean_mobile(self):
        mobile = normalize_cn_mobile(self.cleaned_data["mobile"])
        if not is_valid_cn_mobile(mobile):
            raise ValidationError(
                _("请输入11位中国大陆手机号码，例如 13812345678。"), code="invalid_mobile"
            )
        if CitizenProfile.objects.filter(mobile=mobile).exists():
            raise ValidationError(_("该手机号码已被其他账号使用。"), code="duplicate_mobile")
        return mobile

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error(
                "password2", ValidationError(_("两次输入的密码不一致。"), code="mismatch")
            )
        elif password1:
            # Compare against the personal details typed, as UserAttributeSimilarityValidator
            # would against a saved user.
            probe = User(username=cleaned.get("mobile") or "", name=cleaned.get("name") or "")
            probe.id_number = cleaned.get("id_number") or ""
            try:
                password_validation.validate_password(password1, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
