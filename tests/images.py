"""Real images made with Pillow, as a phone's camera would send them (after stripping metadata)."""

import hashlib
import io
import os

from PIL import Image


def jpeg(width: int = 64, height: int = 48, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def png_with_exif(width: int = 40, height: int = 30) -> bytes:
    """A PNG carrying an EXIF block (a camera model and a GPS tag), which the server refuses."""
    exif = Image.Exif()
    exif[0x0110] = "Phone Camera"  # Model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPSInfo
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


def noise_png(size: int) -> bytes:
    """A PNG of random noise, stored uncompressed, of about `size` bytes."""
    side = max(1, int((size / 3) ** 0.5))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def webp(width: int = 33, height: int = 17) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 128, 0)).save(buffer, "WEBP")
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


def bomb_png(width: int = 8000, height: int = 6000) -> bytes:
    """A tiny file that decodes to 48 megapixels: a one-bit PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_with_text(text: str = "card 4111 1111 1111 1111") -> bytes:
    """A PNG carrying a text chunk (what a screenshot tool may write)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def jpeg_with(comment: bytes | None = None, exif: bool = False, xmp: bool = False, icc: bool = False) -> bytes:
    """A JPEG with what a camera or an editor adds: a comment, EXIF, XMP, or an ICC profile (not text)."""
    from PIL import ImageCms

    options = {}
    if comment is not None:
        options["comment"] = comment
    if exif:
        tags = Image.Exif()
        tags[0x0110] = "Phone Camera"
        options["exif"] = tags
    if xmp:
        options["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    if icc:
        options["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "JPEG", quality=80, **options)
    return buffer.getvalue()


def webp_with_exif() -> bytes:
    tags = Image.Exif()
    tags[0x0110] = "Phone Camera"
    buffer = io.BytesIO()
    Image.new("RGB", (33, 17), (0, 128, 0)).save(buffer, "WEBP", exif=tags)
    return buffer.getvalue()
