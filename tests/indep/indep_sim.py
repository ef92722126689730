#!/usr/bin/python3
"""Independent far-field ptychography simulator (numpy), written from the physics.

Exit wave psi_j(r) = P(r - r_j) O(r); frame I_j = sum_k |FFT(P_k(r - r_j) O(r))|^2
(unscaled forward FFT), stored detector-centred (zero frequency at (m/2, m/2)).
The output is a CXI file that `ptycho recon --input FILE` reads as is and whose
/entry_1/ground_truth group `ptycho compare RESULT.h5 FILE` scores.

Conventions (also those of the ground truth):
  * positions r_j are probe centres (row, col) in object pixels; the probe
    array's pixel (m/2, m/2) sits on r_j; object pixel `origin + r_j` is under it;
  * object pixel dx = lambda z / (m p); translations in metres, columns (x, y, z)
    = (col dx, row dx, 0).
Probes are built on a 2m x 2m canvas and cropped to m x m after any sub-pixel
shift, so a fractional position is applied exactly (no wrap-around of the beam).
"""
import argparse
import sys

import h5py
import numpy as np

H_PLANCK = 6.62607015e-34
C_LIGHT = 299792458.0
EV = 1.602176634e-19


# ----------------------------------------------------------------------------- helpers
def freq2(n):
    """Spatial frequencies (cycles/px) of an n x n FFT grid, zero at index 0."""
    f = np.fft.fftfreq(n)
    return f[:, None], f[None, :]


def fourier_shift(a, dr, dc):
    """Shift the content of a (..., n, n) array by (+dr, +dc) pixels, exactly for band-limited data."""
    fr, fc = freq2(a.shape[-1])
    ramp = np.exp(-2j * np.pi * (fr * dr + fc * dc))
    return np.fft.ifft2(np.fft.fft2(a) * ramp)


def crop(canvas, m):
    """Central m x m of a (..., C, C) canvas: canvas pixel C/2 -> crop pixel m/2."""
    c = canvas.shape[-1] // 2
    return canvas[..., c - m // 2:c - m // 2 + m, c - m // 2:c - m // 2 + m]


def width90(p):
    """Diameter (px) of the circle about the array centre holding 90 % of sum |p|^2 (all modes)."""
    n = p.shape[-1]
    return enclosed_diameter(np.sqrt((np.abs(p) ** 2).reshape(-1, n, n).sum(0)), 0.9)


def gauss_blur(a, sigma):
    """Gaussian blur (sigma in px) by multiplication in Fourier space (periodic)."""
    fr, fc = freq2(a.shape[-1])
    return np.fft.ifft2(np.fft.fft2(a) * np.exp(-2 * (np.pi * sigma) ** 2 * (fr ** 2 + fc ** 2)))


# ----------------------------------------------------------------------------- probes
def lens_probe(C, m, pupil_px, a):
    """Field of a lens with a sharp circular pupil, `a` = lambda * defocus / dx^2 (px^2) from focus.

    The pupil is the lens aperture seen from the focus: a disc of radius
    pupil_px detector pixels (q_max = pupil_px / m cycles/px).  Fresnel
    propagation by dz multiplies the angular spectrum by exp(-i pi lambda dz q^2).
    Returned on a C x C canvas, centred at C/2."""
    fr, fc = freq2(C)
    q2 = fr ** 2 + fc ** 2
    pupil = (q2 <= (pupil_px / m) ** 2).astype(complex)
    return np.fft.fftshift(np.fft.ifft2(pupil * np.exp(-1j * np.pi * a * q2)))


def enclosed_diameter(canvas, frac=0.95):
    n = canvas.shape[-1]
    y, x = np.indices((n, n)) - n // 2
    r = np.hypot(y, x).ravel()
    w = np.abs(canvas.ravel()) ** 2
    o = np.argsort(r)
    cum = np.cumsum(w[o])
    return 2 * r[o][np.searchsorted(cum, frac * cum[-1])]


def defocus_for_fill(C, m, pupil_px, fill):
    """Defocus a (px^2) whose beam holds 95 % of its power within a diameter fill * m.
    Geometric optics gives the start (radius = a q_max); bisection corrects for the
    Fresnel edge fringes.  A fill smaller than the focus itself gives a = 0."""
    target = fill * m
    if enclosed_diameter(lens_probe(C, m, pupil_px, 0.0)) >= target:
        return 0.0
    lo, hi = 0.0, 2.0 * (target / 2) / (pupil_px / m)
    while enclosed_diameter(lens_probe(C, m, pupil_px, hi)) < target:
        hi *= 1.5
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if enclosed_diameter(lens_probe(C, m, pupil_px, mid)) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def gauss_probe(C, fwhm, phase):
    """Gaussian beam, intensity FWHM `fwhm` px (|P|^2 = 1/2 at r = fwhm/2), with a quadratic
    (curvature) phase of `phase` rad at r = fwhm / 2."""
    y, x = np.indices((C, C)) - C // 2
    r2 = (y ** 2 + x ** 2) / (fwhm / 2) ** 2
    return np.exp(-0.5 * np.log(2) * r2) * np.exp(1j * phase * r2)


def fly_modes(base, K, decay, blur=None):
    """Orthogonal modes of a probe blurred by motion along x (columns) during the exposure.

    The mutual intensity J(r1, r2) = <P(r1 - s) P*(r2 - s)>_s over the motion s
    is factored by a thin SVD of the stack of shifted probes: the modes are its
    eigenvectors times sqrt(eigenvalue), so sum_k |FFT(phi_k O)|^2 equals the
    motion-averaged intensity exactly.  Without --blur the motion length is
    chosen so that eigenvalue 1 / eigenvalue 0 equals `decay`."""
    def decompose(L):
        s = np.linspace(-L / 2, L / 2, 33)
        stack = np.array([fourier_shift(base, 0.0, d) for d in s]).reshape(len(s), -1).T / np.sqrt(len(s))
        u, sv, _ = np.linalg.svd(stack, full_matrices=False)
        return u, sv

    if K == 1:
        return base[None], 0.0, np.array([1.0])
    if blur is None:
        lo, hi = 0.0, 1.0
        while decompose(hi)[1][1] ** 2 / decompose(hi)[1][0] ** 2 < decay and hi < 4 * base.shape[-1]:
            hi *= 2
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            _, sv = decompose(mid)
            lo, hi = (mid, hi) if sv[1] ** 2 / sv[0] ** 2 < decay else (lo, mid)
        blur = 0.5 * (lo + hi)
    u, sv = decompose(blur)
    modes = (u[:, :K] * sv[:K]).T.reshape(K, *base.shape)
    return modes, blur, sv[:K] ** 2 / np.sum(sv[:K] ** 2)


# ----------------------------------------------------------------------------- object
def smooth_noise(rng, shape, sigma):
    n = rng.standard_normal(shape)
    fr = np.fft.fftfreq(shape[0])[:, None]
    fc = np.fft.fftfreq(shape[1])[None, :]
    out = np.real(np.fft.ifft2(np.fft.fft2(n) * np.exp(-2 * (np.pi * sigma) ** 2 * (fr ** 2 + fc ** 2))))
    return out / out.std()


def norm01(a):
    return (a - a.min()) / (a.max() - a.min())


def draw_shapes(rng, shape, n_shapes, n_glyph_lines):
    """Anti-aliased discs, ellipses, rectangles and lines of text-like glyphs, values in [0, 1]."""
    H, W = shape
    yy, xx = np.indices(shape, dtype=float)
    img = np.zeros(shape)
    for _ in range(n_shapes):
        cy, cx = rng.uniform(0, H), rng.uniform(0, W)
        v = rng.uniform(-1, 1)
        if rng.random() < 0.5:  # ellipse, soft edge of one pixel
            ry, rx = rng.uniform(3, 0.12 * min(H, W), 2)
            th = rng.uniform(0, np.pi)
            u = ((yy - cy) * np.cos(th) + (xx - cx) * np.sin(th)) / ry
            w = (-(yy - cy) * np.sin(th) + (xx - cx) * np.cos(th)) / rx
            d = (np.hypot(u, w) - 1) * min(ry, rx)
        else:  # rectangle
            hy, hx = rng.uniform(2, 0.1 * min(H, W), 2)
            d = np.maximum(np.abs(yy - cy) - hy, np.abs(xx - cx) - hx)
        img += v * np.clip(0.5 - d, 0, 1)
    # "text": rows of glyphs, each 2-4 strokes between nodes of a 3 x 5 lattice
    for _ in range(n_glyph_lines):
        gh = rng.uniform(7, 14)  # glyph height, px
        y0, x0 = rng.uniform(0, H - gh), rng.uniform(0, W / 2)
        v = rng.uniform(0.5, 1) * rng.choice([-1, 1])
        thick = rng.uniform(0.6, 1.2)
        for g in range(rng.integers(4, 12)):
            gx = x0 + g * 0.75 * gh
            if gx > W - gh:
                break
            nodes = [(y0 + i * gh / 4, gx + j * gh / 4) for i in range(5) for j in range(3)]
            for _ in range(rng.integers(2, 5)):
                (ay, ax), (by, bx) = (nodes[k] for k in rng.choice(15, 2, replace=False))
                sl = (slice(max(int(min(ay, by)) - 3, 0), int(max(ay, by)) + 4),
                      slice(max(int(min(ax, bx)) - 3, 0), int(max(ax, bx)) + 4))
                py, px = yy[sl], xx[sl]
                t = np.clip(((py - ay) * (by - ay) + (px - ax) * (bx - ax)) / max((by - ay) ** 2 + (bx - ax) ** 2, 1e-9), 0, 1)
                d = np.hypot(py - ay - t * (by - ay), px - ax - t * (bx - ax)) - thick
                img[sl] = np.where(np.abs(v) * np.clip(0.5 - d, 0, 1) > np.abs(img[sl]),
                                   v * np.clip(0.5 - d, 0, 1), img[sl])
    return img


def make_object(rng, shape, phase_max, mag_min=0.6):
    """A 'photographic' specimen: multiscale noise (1/f-like) plus shapes and text.
    Magnitude and phase share part of the structure (a real specimen's thickness
    drives both) but are not proportional."""
    def texture():
        t = sum(s ** 0.6 * smooth_noise(rng, shape, s) for s in (0.7, 1.5, 3, 6, 12, 24))
        return t / t.std()
    shared = draw_shapes(rng, shape, 25, 6)
    a = norm01(0.35 * texture() + 1.0 * shared + 0.6 * draw_shapes(rng, shape, 15, 3))
    p = norm01(0.35 * texture() + 0.8 * shared + 0.6 * draw_shapes(rng, shape, 15, 3))
    return ((1 - (1 - mag_min) * a) * np.exp(1j * phase_max * p)).astype(np.complex64)


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="CXI file to write")
    ap.add_argument("--frame", type=int, default=64, help="frame size m (detector pixels)")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--step", type=float, default=None, help="raster step, object px (default: 70 %% overlap of the probe's 90 %% width)")
    ap.add_argument("--jitter", type=float, default=1.5, help="uniform random offset +-J px per axis")
    ap.add_argument("--position-error", type=float, default=0.0,
                    help="the file's positions err from the true ones (which made the frames and stay in the "
                         "ground truth) by a normal error of this RMS per axis, px")
    ap.add_argument("--whole-pixel", action="store_true", help="round the jittered positions to whole pixels")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--probe", choices=["defocus", "gauss", "focus"], default="defocus")
    ap.add_argument("--fill", type=float, default=0.6, help="defocus: beam diameter (95 %% power) / window width")
    ap.add_argument("--pupil", type=float, default=None, help="lens pupil radius on the detector, px (default m/6)")
    ap.add_argument("--focal-length", type=float, default=0.1, help="lens focal length, m (sets the aperture for the attributes)")
    ap.add_argument("--fwhm", type=float, default=None, help="gauss: intensity FWHM, px (default 3m/8)")
    ap.add_argument("--gauss-phase", type=float, default=0.0, help="gauss: curvature phase at r = FWHM/2, rad")
    ap.add_argument("--modes", type=int, default=1)
    ap.add_argument("--mode-decay", type=float, default=0.5, help="target power of mode 1 / mode 0 (sets the fly-scan blur)")
    ap.add_argument("--blur", type=float, default=None, help="fly-scan motion length along x, px (overrides --mode-decay)")
    ap.add_argument("--photons", type=float, default=1e6, help="mean total counts per frame")
    ap.add_argument("--poisson", action="store_true")
    ap.add_argument("--phase-max", type=float, default=1.0)
    ap.add_argument("--probe-guess", choices=["none", "rough", "true"], default="none")
    ap.add_argument("--energy", type=float, default=8000.0, help="eV")
    ap.add_argument("--distance", type=float, default=2.0, help="m")
    ap.add_argument("--pixel", type=float, default=75e-6, help="detector pixel, m")
    ap.add_argument("--pad", type=int, default=8, help="object margin around the windows, px")
    a = ap.parse_args(argv)

    m = a.frame
    C = 2 * m
    rng = np.random.default_rng(a.seed)
    lam = H_PLANCK * C_LIGHT / (a.energy * EV)
    dx = lam * a.distance / (m * a.pixel)
    pupil = a.pupil if a.pupil else m / 6
    optics = {}

    # --- probe on the canvas
    def build_probe(scale):
        """The probe; `scale` != 1 perturbs its defining parameter (for the rough guess)."""
        if a.probe == "gauss":
            fwhm = (a.fwhm if a.fwhm else 3 * m / 8) * scale
            return gauss_probe(C, fwhm, a.gauss_phase), {"fwhm_px": fwhm, "curvature_phase_rad": a.gauss_phase}
        if a.probe == "focus":
            return lens_probe(C, m, pupil / scale, 0.0), {"defocus_px2": 0.0}
        ad = defocus_for_fill(C, m, pupil, a.fill) * scale
        return lens_probe(C, m, pupil, ad), {"defocus_px2": ad}

    base, info = build_probe(1.0)
    if a.probe in ("defocus", "focus"):
        na = lam * (pupil / m) / dx  # sin of the half-angle of the cone
        optics = {"numerical_aperture": na, "focal_length_m": a.focal_length,
                  "aperture_diameter_m": 2 * a.focal_length * na,
                  "defocus_m": info["defocus_px2"] * dx ** 2 / lam, "fill": a.fill if a.probe == "defocus" else 0.0,
                  "focus_fwhm_m": 0.514 * lam / na}
    optics.update(info)
    modes_c, blur, mode_power = fly_modes(base, a.modes, a.mode_decay, a.blur)

    # --- scan: raster + uniform jitter, probe centres (row, col) in px
    width = width90(crop(modes_c, m))
    step = a.step if a.step else 0.3 * width  # 70 % linear overlap of the 90 %-power width
    rr, cc = np.meshgrid(np.arange(a.rows) * step, np.arange(a.cols) * step, indexing="ij")
    pos = np.stack([rr.ravel(), cc.ravel()], 1) + rng.uniform(-a.jitter, a.jitter, (a.rows * a.cols, 2))
    if a.whole_pixel:
        pos = np.round(pos)
    n = len(pos)

    # --- object grid: every window plus `pad`; integer origin so whole-pixel positions stay whole
    lo, hi = pos.min(0), pos.max(0)
    origin = a.pad + m // 2 - np.floor(lo)
    shape = tuple(int(np.ceil(h - l + m + 2 * a.pad + 1)) for l, h in zip(lo, hi))
    obj = make_object(rng, shape, a.phase_max)

    # --- frames
    frames = np.empty((n, m, m), np.float64)
    for j in range(n):
        c = origin + pos[j]
        ci = np.round(c)
        f = c - ci  # fractional part in [-0.5, 0.5], applied by a Fourier shift of the probe
        P = crop(fourier_shift(modes_c, f[0], f[1]), m) if np.any(f != 0) else crop(modes_c, m)
        w = (ci - m // 2).astype(int)
        patch = obj[w[0]:w[0] + m, w[1]:w[1] + m]
        frames[j] = np.fft.fftshift(np.sum(np.abs(np.fft.fft2(P * patch)) ** 2, 0))
    scale = a.photons / frames.sum((1, 2)).mean()  # intensities are linear in |P|^2
    frames *= scale
    modes_c = modes_c * np.sqrt(scale)
    if a.poisson:
        frames = rng.poisson(frames).astype(np.float64)
    probe = crop(modes_c, m).astype(np.complex64)

    # --- write
    with h5py.File(a.output, "w") as h:
        h["cxi_version"] = 140
        det = "/entry_1/instrument_1/detector_1"
        h.create_dataset(det + "/data", data=frames.astype(np.float32), compression="gzip", chunks=(1, m, m))
        h["/entry_1/data_1/data"] = h5py.SoftLink(det + "/data")
        # what the encoders report: drawn from a stream of its own, so the frames do not depend on it
        given = pos + np.random.default_rng(a.seed + 7919).normal(0.0, a.position_error, pos.shape)
        t = np.zeros((n, 3))
        t[:, 0] = given[:, 1] * dx  # x = column
        t[:, 1] = given[:, 0] * dx  # y = row
        h["/entry_1/sample_1/geometry_1/translation"] = t
        h["/entry_1/data_1/translation"] = h5py.SoftLink("/entry_1/sample_1/geometry_1/translation")
        h["/entry_1/instrument_1/source_1/energy"] = a.energy * EV
        h[det + "/distance"] = a.distance
        h[det + "/x_pixel_size"] = a.pixel
        h[det + "/y_pixel_size"] = a.pixel
        gt = h.create_group("/entry_1/ground_truth")
        gt["object"] = obj
        gt["object_position_origin"] = origin.astype(np.float64)
        gt["probe"] = probe
        gt["positions_px"] = pos
        gt["object_pixel_size"] = dx
        if a.probe_guess != "none":
            if a.probe_guess == "true":
                guess = probe[0]
            else:  # wrong defining parameter by 20 %, blurred, with 5 % smooth complex noise
                g = crop(build_probe(1.2)[0], m)
                g = gauss_blur(g, 1.5)
                noise = gauss_blur(rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m)), 1.0)
                g = g + 0.05 * np.abs(g).max() * noise / np.abs(noise).std()
                guess = g * np.sqrt(np.sum(np.abs(probe) ** 2) / np.sum(np.abs(g) ** 2))
            h["/entry_1/instrument_1/source_1/illumination"] = guess.astype(np.complex64)
        attrs = dict(generator="tests/indep/indep_sim.py", rows=a.rows, cols=a.cols, step_px=step,
                     jitter_px=a.jitter, position_error_px=a.position_error, whole_pixel=int(a.whole_pixel), frame=m, probe=a.probe,
                     probe_width90_px=width, pupil_radius_det_px=pupil, modes=a.modes, fly_blur_px=blur,
                     mode_power=" ".join(f"{p:.4g}" for p in mode_power), photons=a.photons,
                     noise="poisson" if a.poisson else "none", phase_max_rad=a.phase_max, energy_ev=a.energy,
                     distance_m=a.distance, detector_pixel_m=a.pixel, wavelength_m=lam, seed=a.seed,
                     probe_guess=a.probe_guess, **optics)
        for k, v in attrs.items():
            gt.attrs[k] = str(v) if isinstance(v, str) else np.float64(v)
    print(f"{a.output}: {n} frames {m}x{m}, object {shape}, probe {a.probe} width90 {width:.1f} px, "
          f"step {step:.2f} px, dx {dx:.4g} m, " + ", ".join(f"{k} {v:.4g}" for k, v in optics.items()
                                                                if isinstance(v, float)))


if __name__ == "__main__":
    sys.exit(main())
