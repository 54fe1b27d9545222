"""Password complexity (R7.1): at least 8 characters from at least 3 of 4 classes."""
from __future__ import annotations

import string

from django.core.exceptions import ValidationError

MIN_LENGTH = 8
MIN_CLASSES = 3


def character_classes(password: str) -> int:
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(c in string.punctuation or not c.isalnum() for c in password),
    ]
    return sum(classes)


class ComplexityValidator:
    def validate(self, password: str, user=None) -> None:
        if len(password) < MIN_LENGTH or character_classes(password) < MIN_CLASSES:
            raise ValidationError(
                "密码至少 8 位，且须包含大写字母、小写字母、数字、特殊字符中的至少 3 类",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return "密码至少 8 位，且须包含大写字母、小写字母、数字、特殊字符中的至少 3 类。"
