"""Just enough of Xpra's wire format for a test client to say hello (Xpra 3.1)."""

from __future__ import annotations

import struct
from typing import Any


def bencode(obj: Any) -> bytes:
    if isinstance(obj, int):
        return b"i%de" % obj
    if isinstance(obj, str):
        obj = obj.encode()
    if isinstance(obj, bytes):
        return b"%d:%s" % (len(obj), obj)
    if isinstance(obj, list):
        return b"l" + b"".join(bencode(x) for x in obj) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(obj.items())) + b"e"


HEADER_SIZE = 8
_SIZE = ">I"  # the payload's size, the header's last 4 bytes


def xpra_packet(payload: bytes) -> bytes:
    """Xpra's 8 byte header: 'P', flags (0 = bencode), compression, chunk, size (BE)."""
    return b"P\x00\x00\x00" + struct.pack(_SIZE, len(payload)) + payload


def packet_size(header: bytes) -> int:
    """A packet's whole length, header included, from its first HEADER_SIZE bytes."""
    return HEADER_SIZE + struct.unpack(_SIZE, header[4:HEADER_SIZE])[0]


# A minimal client hello; the server answers with its own hello.
CLIENT_HELLO = xpra_packet(
    bencode(
        [
            "hello",
            {
                "version": "3.1.3",
                "encodings": ["rgb", "png", "jpeg"],
                "bencode": 1,
                "rencode": 0,
                "compressors": ["none"],
            },
        ]
    )
)
