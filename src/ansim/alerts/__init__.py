"""재난문자 (public disaster messages): parse kind, issuer and exposure visits; geocode offline.

Pure: no store access. ``parse_message`` reads one text; ``read_messages`` reads a dump;
``to_exposure_events`` turns a parsed message into :class:`ansim.records.ExposureEvent` values.
"""

from ansim.alerts.parser import KINDS, ParsedMessage, Visit, parse_message, to_exposure_events
from ansim.alerts.sources import RawMessage, read_messages

__all__ = [
    "KINDS",
    "ParsedMessage",
    "RawMessage",
    "Visit",
    "parse_message",
    "read_messages",
    "to_exposure_events",
]
