"""Text metadata in an image file, found by walking its container (headers only, never the pixels).

A photo may carry text that no one sees on the picture: EXIF (a camera's model, the GPS position
of the shop), XMP, IPTC, a JPEG comment, PNG text chunks. Any of it could hold a card number or a
location, and the server keeps blobs byte for byte, so such photos are refused; the phone's
re-encoded JPEGs carry none (only JFIF, and an ICC colour profile, which is not text).
"""

import struct
from typing import BinaryIO

# JPEG: APPn segments that hold text, by their marker and the signature their payload starts with.
_JPEG_TEXT = [
    (0xE1, b"Exif\0", "EXIF"),
    (0xE1, b"http://ns.adobe.com/xap/", "XMP"),
    (0xE1, b"http://ns.adobe.com/xmp/", "XMP"),
    (0xED, b"", "IPTC (Photoshop)"),
    (0xFE, b"", "a JPEG comment"),
]
_PNG_TEXT = {b"tEXt": "a PNG text chunk", b"zTXt": "a PNG text chunk", b"iTXt": "a PNG text chunk",
             b"eXIf": "EXIF"}
_WEBP_TEXT = {b"EXIF": "EXIF", b"XMP ": "XMP"}


def text_metadata(file: BinaryIO, media_type: str) -> str | None:
    """What text metadata the image in file carries (e.g. "EXIF"), or None; file is read from the start."""
    file.seek(0)
    if media_type == "image/jpeg":
        return _jpeg(file)
    if media_type == "image/png":
        return _png(file)
    if media_type == "image/webp":
        return _webp(file)
    return None


def _jpeg(file: BinaryIO) -> str | None:
    file.read(2)  # SOI
    while True:
        marker = file.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xDA or kind == 0xD9:  # start of scan, end of image: no more headers
            return None
        if 0xD0 <= kind <= 0xD7 or kind == 0x01:  # markers without a length
            continue
        (length,) = struct.unpack(">H", file.read(2))
        payload = file.read(min(length - 2, 32))
        for code, signature, name in _JPEG_TEXT:
            if kind == code and payload.startswith(signature):
                return name
        file.seek(length - 2 - len(payload), 1)


def _png(file: BinaryIO) -> str | None:
    file.read(8)  # signature
    while header := file.read(8):
        if len(header) < 8:
            return None
        length, kind = struct.unpack(">I4s", header)
        if kind in _PNG_TEXT:
            return _PNG_TEXT[kind]
        if kind == b"IEND":
            return None
        file.seek(length + 4, 1)  # data and CRC
    return None


def _webp(file: BinaryIO) -> str | None:
    file.read(12)  # RIFF, size, WEBP
    while header := file.read(8):
        if len(header) < 8:
            return None
        kind, length = struct.unpack("<4sI", header)
        if kind in _WEBP_TEXT:
            return _WEBP_TEXT[kind]
        file.seek(length + (length & 1), 1)  # chunks are padded to an even size
    return None
