"""What a sent file is, read from its bytes: allowed types, hostile files, metadata
stripped, safe names."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from devtone.domain.attachment_content import PIXEL_LIMIT, examine, safe_name
from devtone.errors import Invalid, TooLarge, UnsupportedMediaType

LIMIT = 10 * 1024 * 1024


def image_bytes(kind: str = "PNG", size=(40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind, **save)
    return out.getvalue()


def photo_with_gps() -> bytes:
    """A JPEG as a phone takes it: EXIF with the camera and where it was."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "S", 2: (23.0, 33.0, 1.0), 3: "W", 4: (46.0, 37.0, 59.0)}  # GPS
    return image_bytes("JPEG", exif=exif.tobytes())


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` × `height` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_each_allowed_image_type_is_read_from_its_bytes(kind, content_type):
    examined = examine(image_bytes(kind), "picture", LIMIT)
    assert examined.content_type == content_type
    with Image.open(io.BytesIO(examined.data)) as image:
        assert image.size == (40, 30)


def test_a_pdf_and_plain_text_are_taken():
    assert examine(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "a.pdf", LIMIT).content_type == (
        "application/pdf"
    )
    assert examine("Olá, tudo bem?\n".encode(), "nota.txt", LIMIT).content_type == "text/plain"


def test_an_animated_gif_keeps_its_frames():
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (20, 20), colour) for colour in colours]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=80)
    examined = examine(out.getvalue(), "dance.gif", LIMIT)
    with Image.open(io.BytesIO(examined.data)) as image:
        assert image.n_frames == 3


def test_a_small_animation_on_a_huge_canvas_is_refused_before_it_is_drawn():
    # 40 frames of 1,600 × 1,600: each under the per-frame limit, 102 megapixels in all.
    # The GIF writer stores only what changes, so the file is a few KB.
    canvas = Image.new("P", (1600, 1600), 0)
    frames = []
    for index in range(40):
        frame = canvas.copy()
        frame.putpixel((index, index), 1)
        frames.append(frame)
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    assert len(out.getvalue()) < 64 * 1024
    with pytest.raises(TooLarge) as refused:
        examine(out.getvalue(), "spin.gif", LIMIT)
    assert refused.value.code == "image_too_large"


def test_a_photo_is_turned_upright_by_its_exif_rotation_before_the_exif_goes():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    examined = examine(image_bytes("JPEG", size=(40, 30), exif=exif.tobytes()), "p.jpg", LIMIT)
    with Image.open(io.BytesIO(examined.data)) as image:
        assert image.size == (30, 40)


def test_exif_and_its_gps_position_are_stripped_from_a_photo():
    photo = photo_with_gps()
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get_ifd(0x8825)  # the test photo does carry a position
    examined = examine(photo, "IMG_0001.JPG", LIMIT)
    with Image.open(io.BytesIO(examined.data)) as stored:
        assert not stored.getexif()
        assert "exif" not in stored.info
    assert b"PhoneMaker" not in examined.data


def test_text_chunks_of_a_png_are_stripped():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret address: Rua Augusta 1")
    examined = examine(image_bytes("PNG", pnginfo=info), "x.png", LIMIT)
    assert b"Rua Augusta" not in examined.data


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"\xef\xbb\xbf  <html><body><script>alert(1)</script></body></html>",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",  # a Windows program
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",  # a zip
        b"\x00\x01\x02\x03binary",
        "\udcff".encode("utf-8", "surrogatepass"),  # not UTF-8
    ],
    ids=["svg-script", "svg-onload", "html", "exe", "zip", "binary", "not-utf8"],
)
def test_files_that_are_not_an_allowed_type_are_refused_whatever_their_name(content):
    with pytest.raises(UnsupportedMediaType) as refused:
        examine(content, "holiday.png", LIMIT)
    assert refused.value.code == "unsupported_file_type"


def test_a_file_with_an_image_signature_but_no_image_is_refused():
    with pytest.raises(Invalid) as refused:
        examine(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "x.png", LIMIT)
    assert refused.value.code == "unreadable_image"


def test_a_png_that_claims_100000_by_100000_pixels_is_refused_before_decoding():
    with pytest.raises(TooLarge) as refused:
        examine(png_claiming(100_000, 100_000), "bomb.png", LIMIT)
    assert refused.value.code == "image_too_large"


def test_an_image_just_past_the_pixel_limit_is_refused():
    side = int(PIXEL_LIMIT**0.5) + 1
    with pytest.raises(TooLarge):
        examine(png_claiming(side, side), "big.png", LIMIT)


def test_an_empty_file_is_refused():
    with pytest.raises(Invalid) as refused:
        examine(b"", "empty.txt", LIMIT)
    assert refused.value.code == "empty_file"


def test_a_file_past_the_size_limit_is_refused():
    with pytest.raises(TooLarge) as refused:
        examine(b"a" * 1025, "big.txt", 1024)
    assert refused.value.code == "file_too_large"


@pytest.mark.parametrize(
    ("given", "content_type", "kept"),
    [
        ("../../etc/passwd.txt", "text/plain", "passwd.txt"),
        ("C:\\Users\\ana\\Desktop\\recibo.pdf", "application/pdf", "recibo.pdf"),
        ("/home/ana/../x/foto.PNG", "image/png", "foto.PNG"),
        ("relatório de março – 2026.pdf", "application/pdf", "relatório de março – 2026.pdf"),
        ("写真.jpeg", "image/jpeg", "写真.jpeg"),
        ("página.html", "application/pdf", "página.html.pdf"),
        ("invoice", "application/pdf", "invoice.pdf"),
        ("..", "text/plain", "file.txt"),
        ("", "image/png", "file.png"),
        (None, "image/gif", "file.gif"),
        ("a\x00b\nc\x7f.txt", "text/plain", "abc.txt"),
        ('what?<>:"|*.txt', "text/plain", "what.txt"),
    ],
)
def test_a_name_is_reduced_to_a_safe_base_name_with_its_real_extension(given, content_type, kept):
    assert safe_name(given, content_type) == kept


def test_a_very_long_name_is_cut_keeping_its_extension():
    name = safe_name("a" * 500 + ".pdf", "application/pdf")
    assert len(name) == 120
    assert name.endswith("a.pdf")
