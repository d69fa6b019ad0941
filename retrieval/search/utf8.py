"""Text that arrived as bytes that are not UTF-8: found, refused as a question, and shown safely."""

from __future__ import annotations

import re

from ..errors import QueryError

# Python turns bytes it cannot decode (in argv, or in a stream read with errors="surrogateescape") into lone
# surrogates, U+DC80 to U+DCFF for bytes 0x80 to 0xFF. Valid UTF-8 never decodes to a surrogate.
SURROGATE = re.compile("[\ud800-\udfff]")
ESCAPED_BYTES = range(0xDC80, 0xDD00)
REPLACEMENT = "\ufffd"


def check_utf8(question: str) -> str:
    """The question unchanged; QueryError naming the first bad byte when some of it was not UTF-8."""
    if bad := SURROGATE.search(question):
        code = ord(bad.group())
        byte = f"byte 0x{code - 0xDC00:02x}" if code in ESCAPED_BYTES else "a lone surrogate"
        raise QueryError(f"the question is not valid UTF-8 ({byte} at character {bad.start() + 1}); "
                         "send it as UTF-8 text")
    return question


def printable(text: str) -> str:
    """The text with each undecodable byte shown as U+FFFD, so it can be printed or written as JSON."""
    return SURROGATE.sub(REPLACEMENT, text)
