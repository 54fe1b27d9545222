"""Notifications (issue #6; docs/notifications.md). So far: the group-robot channels."""
