#!/usr/bin/python3
"""Reference ePIE (Maiden & Rodenburg 2009) in numpy, independent of ptycho's code.

Reads a CXI file (frames, translations in metres, energy, distance, pixel size,
/entry_1/ground_truth) as written by indep_sim.py or `ptycho simulate`, and
reconstructs on the ground truth's own object grid with whole-pixel-rounded
positions: window corner = round(origin + r_j) - m/2.  Update rules, alpha =
beta = 1:  O += conj(P) / max|P|^2 (psi' - psi),  P += conj(O) / max|O|^2 (psi' - psi),
summed over incoherent modes (each mode keeps its own exit wave).
Prints the NRMSE against the truth after removing a global complex factor,
over the scanned area (probe-centre bounding box widened by a quarter of the
probe's 90 %-power width, as `ptycho compare` defines it).
--score RESULT.h5 scores a ptycho result file with the same metric instead.
"""
import argparse
import sys
import time

import h5py
import numpy as np

from indep_sim import width90  # the scanned area is scored as the simulator defines the beam width

H_PLANCK, C_LIGHT = 6.62607015e-34, 299792458.0


def load(path):
    with h5py.File(path, "r") as h:
        I = h["/entry_1/data_1/data"][:].astype(np.float64)
        t = h["/entry_1/sample_1/geometry_1/translation"][:]
        lam = H_PLANCK * C_LIGHT / float(h["/entry_1/instrument_1/source_1/energy"][()])
        det = h["/entry_1/instrument_1/detector_1"]
        m = I.shape[-1]
        dx = lam * float(det["distance"][()]) / (m * float(det["x_pixel_size"][()]))
        g = h["/entry_1/ground_truth"]
        truth = dict(object=g["object"][:].astype(np.complex128), origin=g["object_position_origin"][:],
                     probe=np.atleast_3d(g["probe"][:]).reshape(-1, m, m).astype(np.complex128))
        ill = "/entry_1/instrument_1/source_1/illumination"
        guess = h[ill][:].reshape(-1, m, m).astype(np.complex128) if ill in h else None
    pos = np.stack([t[:, 1], t[:, 0]], 1) / dx  # (row, col) = (y, x) / dx
    # measured moduli, moved from detector-centred to FFT order (zero frequency at index 0)
    amp = np.sqrt(np.maximum(np.fft.ifftshift(I, axes=(-2, -1)), 0))
    return amp, pos, truth, guess


def region(pos, origin, width, shape):
    """Scanned area on the truth grid: slices of rows and columns."""
    lo = np.ceil(origin + pos.min(0) - width / 4 - 1e-9).astype(int)
    hi = np.floor(origin + pos.max(0) + width / 4 + 1e-9).astype(int)
    lo, hi = np.maximum(lo, 0), np.minimum(hi, np.array(shape) - 1)
    return slice(lo[0], hi[0] + 1), slice(lo[1], hi[1] + 1)


def remove_ramp(rec, true):
    """rec times the linear phase ramp exp(i k.r) that best matches true (a free probe
    leaves this ambiguity): k from the DFT peak of true conj(rec), refined by a
    |.|-weighted plane fit of the residual phase."""
    p = true * np.conj(rec)
    h, w = p.shape
    pk = np.unravel_index(np.argmax(np.abs(np.fft.fft2(p, (4 * h, 4 * w)))), (4 * h, 4 * w))
    k = 2 * np.pi * (np.array(pk) / (4 * np.array([h, w])) + 0.5) % (2 * np.pi) - np.pi
    y, x = np.indices(p.shape)
    res = np.angle(p * np.exp(-1j * (k[0] * y + k[1] * x)))
    wt = np.abs(p).ravel()
    A = np.stack([np.ones(p.size), y.ravel(), x.ravel()], 1) * wt[:, None]
    c = np.linalg.lstsq(A, res.ravel() * wt, rcond=None)[0]
    return rec * np.exp(1j * ((k[0] + c[1]) * y + (k[1] + c[2]) * x))


def nrmse(rec, true, ramp=False):
    """min_g ||g rec - true|| / ||true|| (g a global complex factor; optionally also a phase ramp)."""
    if ramp:
        rec = remove_ramp(rec, true)
    g = np.vdot(rec, true) / np.vdot(rec, rec)
    return np.linalg.norm(g * rec - true) / np.linalg.norm(true)


def epie(amp, corners, probe, obj, iters, probe_start, fixed, rng, report=None):
    m = amp.shape[-1]
    n = len(corners)
    for it in range(iters):
        update_probe = not fixed and it >= probe_start
        for j in rng.permutation(n):
            r, c = corners[j]
            O = obj[r:r + m, c:c + m]  # a view: updated in place
            psi = probe * O  # (K, m, m) exit waves, one per mode
            F = np.fft.fft2(psi)
            tot = np.sqrt(np.sum(np.abs(F) ** 2, 0))
            F *= amp[j] / np.maximum(tot, 1e-12)  # modulus constraint on the incoherent sum
            d = np.fft.ifft2(F) - psi
            Oold = O.copy()
            O += np.sum(np.conj(probe) * d, 0) / np.max(np.sum(np.abs(probe) ** 2, 0))
            if update_probe:
                probe += np.conj(Oold) * d / np.max(np.abs(Oold) ** 2)
        if report and (it + 1) % report[0] == 0:
            print(f"  iteration {it + 1}: nrmse {report[1](obj):.5f}", flush=True)
    return obj, probe


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="CXI file with /entry_1/ground_truth")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--start", choices=["true", "disc", "file"], default="true",
                    help="starting probe: the truth (all modes), a flat disc of diameter m/2, or the file's illumination")
    ap.add_argument("--fixed-probe", action="store_true", help="never update the probe")
    ap.add_argument("--probe-start", type=int, default=10, help="first iteration that updates the probe")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--print-every", type=int, default=0)
    ap.add_argument("--score", metavar="RESULT.h5", help="only score a ptycho result (/object, /object_position_origin)")
    ap.add_argument("--ramp", action="store_true", help="also remove a linear phase ramp before the NRMSE")
    ap.add_argument("--save", metavar="FILE.npy", help="save the reconstructed object (truth grid)")
    ap.add_argument("--time", action="store_true", help="print the seconds per iteration of the ePIE loop")
    a = ap.parse_args(argv)

    amp, pos, truth, guess = load(a.input)
    m = amp.shape[-1]
    T, origin = truth["object"], truth["origin"]
    sl = region(pos, origin, width90(truth["probe"]), T.shape)

    if a.score:
        with h5py.File(a.score, "r") as h:
            rec = h["/object"][:].astype(np.complex128)
            ro = h["/object_position_origin"][:]
        d = ro - origin  # truth pixel r <-> result pixel r + d
        if np.any(np.abs(d - np.round(d)) > 1e-6):
            print("warning: non-integer origin offset", d, "rounded")
        d = np.round(d).astype(int)
        sub = rec[sl[0].start + d[0]:sl[0].stop + d[0], sl[1].start + d[1]:sl[1].stop + d[1]]
        print(f"nrmse {nrmse(sub, T[sl], a.ramp):.6f}  (region rows {sl[0].start}..{sl[0].stop - 1}, "
              f"cols {sl[1].start}..{sl[1].stop - 1}, global factor{' and phase ramp' if a.ramp else ''} removed)")
        return 0

    corners = np.round(origin + pos).astype(int) - m // 2
    if corners.min() < 0 or np.any(corners.max(0) + m > np.array(T.shape)):
        sys.exit("positions fall off the truth grid")
    if a.start == "true":
        probe = truth["probe"].copy()
    elif a.start == "file":
        if guess is None:
            sys.exit("the file has no /entry_1/instrument_1/source_1/illumination")
        probe = guess.copy()
    else:
        y, x = np.indices((m, m)) - m // 2
        probe = (np.hypot(y, x) <= m / 4).astype(np.complex128)[None]
        # scale so the mean frame power matches (Parseval, unscaled FFT)
        probe *= np.sqrt(np.mean(np.sum(amp ** 2, (1, 2))) / m ** 2 / np.sum(np.abs(probe) ** 2))
    obj = np.ones(T.shape, np.complex128)
    score = lambda o: nrmse(o[sl], T[sl], a.ramp)
    rep = (a.print_every, score) if a.print_every else None
    t0 = time.perf_counter()
    obj, probe = epie(amp, corners, probe, obj, a.iterations, a.probe_start, a.fixed_probe,
                      np.random.default_rng(a.seed), rep)
    if a.time:  # the ePIE loop alone: no file reading, no scoring
        print(f"seconds per iteration {(time.perf_counter() - t0) / a.iterations:.6f}")
    if a.save:
        np.save(a.save, obj)
    print(f"nrmse {score(obj):.6f}  ({a.iterations} iterations, start {a.start}, "
          f"{'fixed' if a.fixed_probe else 'updated'} probe, {len(probe)} mode(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
