#!/usr/bin/env python3
"""Draw the Teams app icons with the Python standard library only.

  teams/color.png    192 x 192, full colour: white figures on the accent colour
  teams/outline.png   32 x 32, white figures on a fully transparent background
                     (Teams: the outline icon is white or transparent, nothing else)

The picture is two people, a field worker and a larger remote expert behind
them. Shapes are circles and half-discs evaluated per pixel; the colour icon is
4 x 4 supersampled for smooth edges, the outline icon is thresholded so every
pixel is either opaque white or fully transparent.

    python3 scripts/deploy/make_teams_icons.py [--out teams]

The output is deterministic, so re-running it leaves git clean.
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCENT = (0x0F, 0x6C, 0xBD)  # must match accentColor in teams/manifest.json


def write_png(path: Path, width: int, height: int, rgba_rows: list[bytes]) -> None:
    """Write an 8-bit RGBA PNG (filter 0 on every row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rgba_rows)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    path.write_bytes(png)


def inside(x: float, y: float) -> bool:
    """The two figures, in unit coordinates (0..1, y down)."""
    figures = (
        # (head centre x, head centre y, head radius, body centre x, body top y, body radius)
        (0.62, 0.30, 0.13, 0.62, 0.50, 0.24),  # the expert, behind
        (0.36, 0.44, 0.11, 0.36, 0.61, 0.20),  # the field worker, in front
    )
    for hx, hy, hr, bx, by, br in figures:
        if (x - hx) ** 2 + (y - hy) ** 2 <= hr**2:
            return True
        # Shoulders: the upper half of a disc centred at the bottom of the body.
        cy = by + br
        if y <= cy and (x - bx) ** 2 + (y - cy) ** 2 <= br**2 and y >= by:
            return True
    return False


def separated(x: float, y: float) -> bool:
    """A thin gap around the front figure so the two read as two people."""
    hx, hy, hr, bx, by, br = 0.36, 0.44, 0.11, 0.36, 0.61, 0.20
    gap = 0.035
    head = (x - hx) ** 2 + (y - hy) ** 2 <= (hr + gap) ** 2
    cy = by + br
    body = y <= cy and y >= by - gap and (x - bx) ** 2 + (y - cy) ** 2 <= (br + gap) ** 2
    return (head or body) and not inside_front(x, y)


def inside_front(x: float, y: float) -> bool:
    hx, hy, hr, bx, by, br = 0.36, 0.44, 0.11, 0.36, 0.61, 0.20
    if (x - hx) ** 2 + (y - hy) ** 2 <= hr**2:
        return True
    cy = by + br
    return y <= cy and y >= by and (x - bx) ** 2 + (y - cy) ** 2 <= br**2


def coverage(px: int, py: int, size: int, samples: int) -> float:
    hits = 0
    for sy in range(samples):
        for sx in range(samples):
            x = (px + (sx + 0.5) / samples) / size
            y = (py + (sy + 0.5) / samples) / size
            if inside(x, y) and not separated(x, y):
                hits += 1
    return hits / (samples * samples)


def color_icon(size: int = 192) -> list[bytes]:
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            c = coverage(px, py, size, 4)
            rgb = [round(a + (255 - a) * c) for a in ACCENT]
            row += bytes(rgb + [255])
        rows.append(bytes(row))
    return rows


def outline_icon(size: int = 32) -> list[bytes]:
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            opaque = coverage(px, py, size, 4) >= 0.5
            row += b"\xff\xff\xff\xff" if opaque else b"\x00\x00\x00\x00"
        rows.append(bytes(row))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "teams")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_png(args.out / "color.png", 192, 192, color_icon(192))
    write_png(args.out / "outline.png", 32, 32, outline_icon(32))
    print(f"wrote {args.out / 'color.png'} and {args.out / 'outline.png'}")


if __name__ == "__main__":
    main()
