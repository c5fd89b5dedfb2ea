"""The stand-in's check of uploaded images: a file named `*.png` must be a PNG that
decodes, checked with the standard library only (the stand-in adds no dependency).

Slack itself would store any bytes; the stand-in is stricter so a test fails when the
bot uploads a chart that no viewer could show: the signature, every chunk's CRC, IHDR
first and IEND last, and IDAT data that inflates to exactly the rows IHDR declares.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
MAX_SIDE = 10_000


def png_problem(data: bytes) -> str | None:
    """Why `data` is not a valid, complete PNG image; None when it is one."""
    if not data.startswith(SIGNATURE):
        return "no PNG signature"
    at, chunks, idat = len(SIGNATURE), [], bytearray()
    header: tuple[int, int, int, int, int] | None = None
    while at < len(data):
        if at + 12 > len(data):
            return "truncated chunk"
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if len(body) != length or at + 12 + length > len(data):
            return f"truncated {kind!r} chunk"
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return f"bad CRC in {kind!r} chunk"
        chunks.append(kind)
        if kind == b"IHDR":
            if length != 13:
                return "bad IHDR length"
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                return f"unreasonable size {width}x{height}"
            if colour not in CHANNELS or depth not in (1, 2, 4, 8, 16):
                return "bad colour type or bit depth"
            header = (width, height, depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    if not chunks or chunks[0] != b"IHDR" or header is None:
        return "IHDR is not the first chunk"
    if chunks[-1] != b"IEND":
        return "no IEND at the end"
    if not idat:
        return "no image data"
    try:
        pixels = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        return f"image data does not inflate ({exc})"
    width, height, depth, colour, interlace = header
    if interlace == 0:
        row = (width * CHANNELS[colour] * depth + 7) // 8
        if len(pixels) != height * (1 + row):
            return f"image data is {len(pixels)} bytes, {height * (1 + row)} expected"
    return None
