"""Shared kernel tables. The calendar override table is added by core.calendar."""
