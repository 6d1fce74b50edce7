"""What a sent file really is: its type read from its bytes (never from its name or the
type the browser declared), images re-encoded without their metadata, and a name that is
a plain file name.

Allowed: PNG, JPEG, GIF and WebP images, PDF, and plain UTF-8 text. SVG is refused (it is
a document that runs scripts), and so is any text that opens like markup: a browser that
sniffs would render it as HTML.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from devtone.errors import Invalid, TooLarge, UnsupportedMediaType

#: The most pixels an image (each frame of an animation) may have: a 40-megapixel photo
#: passes; a small file that claims 100,000 × 100,000 pixels (a decompression bomb,
#: ~30 GB once decoded) is refused before a single pixel is decoded.
PIXEL_LIMIT = 40_000_000
#: Frames of an animated image, for the same reason.
FRAME_LIMIT = 200
#: Pixels of every frame together: redrawing an animation costs all of them, on the
#: worker's one thread (a few KB of GIF may declare 200 frames of a 6000 × 6000 canvas).
ANIMATION_PIXEL_LIMIT = 100_000_000
#: The longest file name kept, in characters (the extension stays).
NAME_MAX = 120

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
_SAME_EXTENSIONS = {".jpeg": "image/jpeg", ".text": "text/plain", ".log": "text/plain"}
# Control characters and what Windows refuses in a name; a path separator is handled first.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


@dataclass(frozen=True)
class Examined:
    """A file fit to store: its safe name, its type, and its bytes (re-encoded if an image)."""

    name: str
    content_type: str
    data: bytes


def examine(data: bytes, name: object, size_limit: int) -> Examined:
    """Check what `data` is and return what may be stored, or raise a 4xx error.

    Invalid (422) for an empty file, TooLarge (413) past `size_limit` bytes or for an image
    of too many pixels, UnsupportedMediaType (415) for any type not allowed.
    """
    if not data:
        raise Invalid("The file is empty.", field="file", code="empty_file")
    if len(data) > size_limit:
        raise TooLarge(
            "The file is larger than {limit} MB.",
            field="file",
            code="file_too_large",
            limit=size_limit // (1024 * 1024),
        )
    content_type, data = _image(data) if _looks_like_image(data) else (_document(data), data)
    return Examined(safe_name(name, content_type), content_type, data)


def safe_name(name: object, content_type: str) -> str:
    """A plain file name: the last part of any path, no control characters, unicode kept
    (NFC), at most NAME_MAX characters, ending with the extension of its real type."""
    text = name if isinstance(name, str) else ""
    text = unicodedata.normalize("NFC", text).replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("", text).strip().strip(".").strip()
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    suffix = "." + extension if extension else ""
    lower = suffix.lower()
    if EXTENSIONS.get(content_type) != lower and _SAME_EXTENSIONS.get(lower) != content_type:
        # A PDF named "page.html" would open as a page once downloaded: its real type's
        # extension goes after the name it came with.
        stem, suffix = text, EXTENSIONS[content_type]
    stem = stem[: NAME_MAX - len(suffix)].strip() or "file"
    return stem + suffix


def _looks_like_image(data: bytes) -> bool:
    head = data[:16]
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _image(data: bytes) -> tuple[str, bytes]:
    """The image's type and its bytes drawn again from its pixels alone: no EXIF (the GPS
    position of a phone's photo), no comments, nothing but the picture."""
    try:
        with _opened(data) as image:
            _check_dimensions(image)
            image.verify()  # the structure, without decoding: truncated or corrupt files stop here
        with _opened(data) as image:
            kind = image.format
            frames = getattr(image, "n_frames", 1)
            if kind not in IMAGE_TYPES:
                raise _unsupported()
            out = io.BytesIO()
            if frames > 1:
                image.save(out, format=kind, save_all=True, **_options(kind, image))
            else:
                upright = ImageOps.exif_transpose(image)  # the EXIF rotation, applied
                upright.save(out, format=kind, **_options(kind, upright))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid(
            "The image cannot be read: it is damaged or not what it says.",
            field="file",
            code="unreadable_image",
        ) from None
    return IMAGE_TYPES[kind], out.getvalue()


def _opened(data: bytes) -> Image.Image:
    """The image, opened (its header read, nothing decoded). Pillow's own bomb guard (a
    warning past 89 megapixels, an error past twice that) answers as our pixel limit does."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the four allowed formats' parsers ever see the bytes.
            return Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels("?", "?") from None


def _check_dimensions(image: Image.Image) -> None:
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if (
        width * height > PIXEL_LIMIT
        or frames > FRAME_LIMIT
        or width * height * frames > ANIMATION_PIXEL_LIMIT
    ):
        raise _too_many_pixels(width, height)


def _too_many_pixels(width: object, height: object) -> TooLarge:
    return TooLarge(
        "The image has too many pixels ({width} × {height}).",
        field="file",
        code="image_too_large",
        width=width,
        height=height,
    )


def _options(kind: str, image: Image.Image) -> dict[str, object]:
    """Saving options: keep quality and animation timing, drop every metadata block."""
    if kind == "JPEG":
        return {"quality": 90}
    if kind == "WEBP":
        return {"quality": 90, "exif": b"", "xmp": b""}
    if kind == "GIF":
        return {"loop": image.info.get("loop", 0), "duration": image.info.get("duration", 100)}
    return {}


def _document(data: bytes) -> str:
    """The type of a file that is not an image: PDF, or plain text; refused otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _unsupported() from None
    if "\x00" in text or text.lstrip("\ufeff \t\r\n").startswith("<"):
        raise _unsupported()  # binary, or markup (SVG, HTML, XML): never plain text
    return "text/plain"


def _unsupported() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "This kind of file cannot be sent: send an image (PNG, JPEG, GIF, WebP), a PDF or "
        "a text file.",
        field="file",
        code="unsupported_file_type",
    )
