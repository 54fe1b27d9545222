from django import template

from zhengtong.notify.preferences import digest_time as _digest_time

register = template.Library()


@register.simple_tag
def digest_time() -> str:
    return f"{_digest_time():%H:%M}"


@register.simple_tag(takes_context=True)
def notification_bell_visible(context) -> bool:
    """The bell is for people who handle work: an account with a person, not one of the 三员."""
    from zhengtong.accounts.permissions import is_any_admin

    user = context.get("user")
    return bool(user is not None and user.is_authenticated and getattr(user, "person", None) is not None
                and not is_any_admin(user))
