import pytest

from .endpoints import start_smtp


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port, with the email channel pointed at it and on."""
    box, controller = start_smtp()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "zhengtong@shifan.gov.example"
    settings.NOTIFY_EMAIL_ENABLED = True
    yield box
    controller.stop()
