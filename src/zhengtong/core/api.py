"""Calendar API (filled in by core.calendar)."""
from ninja import Router

router = Router(tags=["calendar"])
