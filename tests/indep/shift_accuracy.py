#!/usr/bin/python3
"""How exactly can a reconstruction move its probe by a fraction of a pixel?

numpy only, written from the shift theorem, not from ptycho's code: a probe
on a 64-px window is moved by f (uniform in +-0.5 px per axis, 20 draws) by
(a) a Fourier phase ramp on the window itself (periodic: what the engine can
do with the probe it has, pty_shift_factor), (b) Lanczos-1, -3 and -5
interpolation (zero outside the window), and compared
with the same probe moved on a 4x larger canvas (nothing wraps).  Prints the
mean relative error of each.  Measured (2026-12-06):
  gauss fwhm 16    edge 3.0e-05: fourier m 2.50e-06, lanczos3 5.89e-03, lanczos5 1.59e-03, lanczos1 1.79e-01
  gauss fwhm 24    edge 9.8e-03: fourier m 8.99e-04, lanczos3 6.63e-03, lanczos5 1.66e-03, lanczos1 2.04e-01
  wide beam        edge 9.8e-02: fourier m 1.30e-02, lanczos3 8.30e-03, lanczos5 4.76e-03, lanczos1 2.11e-01
The Fourier shift is exact but for what wraps around the window's edge; it
is unitary (its adjoint is the shift back), which interpolation is not."""
import numpy as np

m = 64


def fourier_shift(p, f, pad=1):
    n = p.shape[0] * pad
    big = np.zeros((n, n), complex)
    o = (n - p.shape[0]) // 2
    big[o:o + p.shape[0], o:o + p.shape[0]] = p
    q = np.fft.fftfreq(n)
    ramp = np.exp(-2j * np.pi * (q[:, None] * f[0] + q[None, :] * f[1]))
    s = np.fft.ifft2(np.fft.fft2(big) * ramp)
    return s[o:o + p.shape[0], o:o + p.shape[0]]


def lanczos_shift(p, f, a=3):
    out = p
    for ax in (0, 1):
        d = f[ax]
        ks = np.arange(-a, a + 1)
        w = np.sinc(ks + d) * np.sinc((ks + d) / a) * (np.abs(ks + d) < a)
        res = np.zeros_like(out)
        for k, wk in zip(ks, w):
            sh = np.roll(out, -k, axis=ax)
            idx = [slice(None)] * 2
            if k > 0:
                idx[ax] = slice(out.shape[ax] - k, None)
                sh[tuple(idx)] = 0
            elif k < 0:
                idx[ax] = slice(0, -k)
                sh[tuple(idx)] = 0
            res += wk * sh
        out = res
    return out


def gauss(w):
    yy, xx = np.mgrid[-m // 2:m // 2, -m // 2:m // 2]
    return np.exp(-(xx ** 2 + yy ** 2) / (2 * (w / 2.355) ** 2)).astype(complex)


def wide_beam():
    """A defocused pupil (disc of radius m/6, quadratic phase): a beam with rings to the window's edge."""
    yy, xx = np.mgrid[-m // 2:m // 2, -m // 2:m // 2]
    pupil = (xx ** 2 + yy ** 2 <= (m / 6) ** 2).astype(complex)
    pupil *= np.exp(1j * np.pi * 0.5 * (xx ** 2 + yy ** 2) / (2 * (m / 6) ** 2) * 6)
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(pupil)))


def main():
    rng = np.random.default_rng(1)
    for name, p in [("gauss fwhm 16", gauss(16)), ("gauss fwhm 24", gauss(24)), ("wide beam", wide_beam())]:
        edge = np.abs(p[[0, -1], :]).max() / np.abs(p).max()
        errs = {"fourier m": [], "lanczos3": [], "lanczos5": [], "lanczos1": []}
        for _ in range(20):
            f = rng.uniform(-0.5, 0.5, 2)
            truth = fourier_shift(p, f, pad=4)
            nrm = np.linalg.norm(truth)
            errs["fourier m"].append(np.linalg.norm(fourier_shift(p, f, 1) - truth) / nrm)
            errs["lanczos3"].append(np.linalg.norm(lanczos_shift(p, f, 3) - truth) / nrm)
            errs["lanczos5"].append(np.linalg.norm(lanczos_shift(p, f, 5) - truth) / nrm)
            errs["lanczos1"].append(np.linalg.norm(lanczos_shift(p, f, 1) - truth) / nrm)
        print(f"{name:16s} edge {edge:.1e}: " + ", ".join(f"{k} {np.mean(v):.2e}" for k, v in errs.items()))


if __name__ == "__main__":
    main()
