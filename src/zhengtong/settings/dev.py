"""Development and `make demo`: embedded SQLite, Huey on SQLite, local files."""
from .base import *  # noqa: F401,F403
