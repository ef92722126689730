#!/usr/bin/python3
"""montage_phase.py OUT.png A.h5 [B.h5 ...] - the phase of several ptycho
results side by side in one 8-bit grayscale PNG (numpy, h5py and zlib only;
no ptycho code), for a study's figure.

Each object's central region (the middle 70 % of its box, where every
result was illuminated) is shown on a common scale: its phase relative to
its mean complex value there (so a global phase offset does not change the
grey level), clipped to that scale's 0.5-99.5 percentiles.  Panels are
separated by a 4-pixel white gap and keep their own size."""
import struct
import sys
import zlib

import h5py
import numpy as np


def phase_panel(path):
    with h5py.File(path, "r") as f:
        obj = f["/object"][()]
    h, w = obj.shape
    r0, c0 = int(0.15 * h), int(0.15 * w)
    crop = obj[r0:h - r0, c0:w - c0]
    return np.angle(crop * np.conj(crop.mean()))


def write_png(path, img):
    h, w = img.shape
    raw = b"".join(b"\x00" + img[i].tobytes() for i in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    panels = [phase_panel(p) for p in sys.argv[2:]]
    values = np.concatenate([p.ravel() for p in panels])
    lo, hi = np.percentile(values, [0.5, 99.5])
    gap = 4
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    x = 0
    for p in panels:
        scaled = np.clip((p - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        canvas[:p.shape[0], x:x + p.shape[1]] = np.round(255 * scaled).astype(np.uint8)
        x += p.shape[1] + gap
    write_png(sys.argv[1], canvas)


if __name__ == "__main__":
    main()
