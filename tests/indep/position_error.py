#!/usr/bin/python3
"""RMS per axis (px) of a result's positions against a simulated scan's true ones.

position_error.py RESULT.h5 TRUTH.cxi [--affine]
Takes /positions_refined_px (position correction) or else /positions_px from the result, and
/entry_1/ground_truth/positions_px from the scan; removes the error's mean (with --affine: its
best affine function of the given positions), since a common shift (and, for --affine, a scale,
rotation or shear) of all positions is not what position correction is asked to find.
"""
import sys

import h5py
import numpy as np


def main(argv):
    r, t = h5py.File(argv[1], "r"), h5py.File(argv[2], "r")
    got = r["/positions_refined_px"][()] if "/positions_refined_px" in r else r["/positions_px"][()]
    d = got - t["/entry_1/ground_truth/positions_px"][()]
    x = np.c_[np.ones(len(d)), r["/positions_px"][()]] if "--affine" in argv[3:] else np.ones((len(d), 1))
    d = d - x @ np.linalg.lstsq(x, d, rcond=None)[0]
    print(f"{np.sqrt((d ** 2).mean()):.4f}")


if __name__ == "__main__":
    main(sys.argv)
