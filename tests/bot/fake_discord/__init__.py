"""A small, faithful fake Discord (REST under /api/v10 and a gateway) for testing a real discord.py bot offline."""

from .gateway import GatewayFrame, GatewaySession, Heartbeat
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, MESSAGE_COMPONENT, InteractionHandle, Rejection
from .rest import RecordedRequest, Violation
from .server import FakeDiscord

__all__ = [
    "APPLICATION_COMMAND",
    "AUTOCOMPLETE",
    "MESSAGE_COMPONENT",
    "FakeDiscord",
    "GatewayFrame",
    "GatewaySession",
    "Heartbeat",
    "InteractionHandle",
    "RecordedRequest",
    "Rejection",
    "Violation",
]
