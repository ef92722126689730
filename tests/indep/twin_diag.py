#!/usr/bin/python3
"""Why a flat-phase Gaussian probe on `ptycho simulate`'s Siemens star stagnates.

For a real probe P, the conjugate object O* gives exactly the inverted patterns
I_j(-q), so the data tell O from O* only through their non-centrosymmetric part.
Takes the geometry, object and probe of a CXI file (e.g. from `ptycho simulate
--probe gaussian`), re-simulates noise-free frames with I = |FFT(P O_patch)|^2
for variants of object and probe, and for each prints
  asym  = median_j ||I_j(q) - I_j(-q)|| / ||I_j||  (how well O and O* differ in the data)
  nrmse = indep_epie with the true probe fixed.
Usage: twin_diag.py g.cxi [--iterations 200] [--only NAME ...]
"""
import argparse
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from indep_epie import epie, nrmse, region, width90  # noqa: E402
from indep_sim import crop, gauss_blur, lens_probe, make_object  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    with h5py.File(a.input, "r") as h:
        g = h["/entry_1/ground_truth"]
        star, P0 = g["object"][:].astype(complex), g["probe"][0].astype(complex)
        origin, pos = g["object_position_origin"][:], g["positions_px"][:]
    m = P0.shape[-1]
    corners = np.round(origin + pos).astype(int) - m // 2
    y, x = np.indices((m, m)) - m // 2
    rng = np.random.default_rng(5)
    mine = make_object(rng, star.shape, 1.0)
    binary = np.abs(mine) * np.exp(1j * (np.angle(mine) > np.median(np.angle(mine))))  # phase in {0, 1 rad}
    smooth = np.real(gauss_blur(rng.standard_normal(star.shape).astype(complex), 12))
    smooth = (smooth - smooth.min()) / np.ptp(smooth)
    # star whose phase contrast varies smoothly in strength: no longer "real pattern x constant"
    star_graded = np.abs(star) * np.exp(1j * np.angle(star) * (0.3 + 0.7 * smooth))
    curved = P0 * np.exp(1j * 1.0 * (y ** 2 + x ** 2) / 12 ** 2)  # 1 rad at r = FWHM/2
    defocus = crop(lens_probe(2 * m, m, m / 6, 70.0), m)
    defocus *= np.linalg.norm(P0) / np.linalg.norm(defocus)
    variants = {
        "star+flat-gauss (as in the file)": (star, P0),
        "star+curved-gauss": (star, curved),
        "star+defocus-lens": (star, defocus),
        "graded-star+flat-gauss": (star_graded, P0),
        "indep-object+flat-gauss": (mine, P0),
        "binary-phase-indep+flat-gauss": (binary, P0),
    }
    for name, (O, P) in variants.items():
        if a.only and not any(s in name for s in a.only):
            continue
        I = np.array([np.abs(np.fft.fft2(P * O[r:r + m, c:c + m])) ** 2 for r, c in corners])
        Iinv = np.roll(I[:, ::-1, ::-1], 1, (1, 2))  # I(-q) in FFT order
        asym = np.median(np.linalg.norm(I - Iinv, axis=(1, 2)) / np.linalg.norm(I, axis=(1, 2)))
        sl = region(pos, origin, width90(P[None]), O.shape)
        obj, _ = epie(np.sqrt(I), corners, P[None].copy(), np.ones_like(O), a.iterations, 0, True,
                      np.random.default_rng(1))
        print(f"{name:34s} asym {asym:.4f}  nrmse {nrmse(obj[sl], O[sl]):.4f}  "
              f"(vs conj truth {nrmse(obj[sl], np.conj(O[sl])):.4f})", flush=True)


if __name__ == "__main__":
    main()
