"""Draw devtone/static/favicon.ico: a 32×32 speech bubble in the accent colour, as a PNG
inside an ICO (every browser reads that), with no image library. Run it again after
changing the drawing: `python tools/favicon.py`."""

import struct
import zlib
from pathlib import Path

SIZE = 32
ACCENT = (0x25, 0x63, 0xEB, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
CLEAR = (0, 0, 0, 0)


def pixel(x: float, y: float) -> tuple[int, int, int, int]:
    """The bubble: a rounded square with a tail at the bottom left, three white dots."""
    inside_box = 2 <= x <= 29 and 3 <= y <= 23
    corners = [(7, 8), (24, 8), (7, 18), (24, 18)]
    in_corner_zone = (x < 7 or x > 24) and (y < 8 or y > 18)
    if inside_box and in_corner_zone:
        inside_box = any((x - cx) ** 2 + (y - cy) ** 2 <= 25 for cx, cy in corners)
    tail = 6 <= x <= 14 and 23 <= y <= 29 and (x - 6) >= (y - 23) * 1.2
    if not (inside_box or tail):
        return CLEAR
    for cx in (10, 16, 22):
        if (x - cx) ** 2 + (y - 13.5) ** 2 <= 5:
            return WHITE
    return ACCENT


def png() -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x + 0.5, y + 0.5)) for x in range(SIZE))
        for y in range(SIZE)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def ico(image: bytes) -> bytes:
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return directory + entry + image


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "devtone" / "static" / "favicon.ico"
    target.write_bytes(ico(png()))
    print(f"wrote {target}")
