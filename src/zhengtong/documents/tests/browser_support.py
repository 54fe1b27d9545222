"""Helpers the 公文 browser tests share (the demo city fixture and the phone check live in test_browser_documents,
the Desk in flow's test_browser_e2e)."""
from __future__ import annotations

from zhengtong.org.models import Identity, Unit


def staff(unit: Unit, duty: str, department: str = "") -> Identity:
    """The unit's first active post with `duty` (in `department` when given) that has an account: the demo's
    generated people, found by what they do rather than by their generated user names."""
    rows = Identity.objects.filter(unit=unit, duty__code=duty, active=True, person__user__isnull=False)
    if department:
        rows = rows.filter(department__name=department)
    return rows.select_related("person__user", "department").order_by("pk").first()


def todo_row(page, live_server, title: str):
    """The row of `title` in the logged-in user's 待办 (count() == 0 when it is not there)."""
    page.goto(f"{live_server.url}/tasks/")
    return page.locator("table.flow-list tbody tr", has_text=title)


def messages(page) -> str:
    """The page's flash messages (success and refusals), "" when there are none."""
    return page.locator(".messages").inner_text() if page.locator(".messages").count() else ""
