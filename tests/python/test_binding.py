"""The Python binding against the command line on one simulated scan.

Run by tests/cli/python_binding.sh inside a fresh virtual environment where
`pip install ./python` installed the package, with the scan s.cxi and the
program's result cli.h5 in the working directory.  Checks that a scan read
by the library and one built from numpy arrays (frames and positions taken
from the file with h5py, metres turned into pixels here) both reconstruct,
write results the program can score, and that progress, early stop, errors
and the log sink work.  Prints one line per check; exit 1 on any failure."""
import subprocess
import sys

import numpy as np

import ptycho

failures = 0


def check(what, ok, detail=""):
    global failures
    print("%s  %s %s" % ("PASSED" if ok else "FAILED", what, detail))
    failures += 0 if ok else 1


ptycho_program, iterations = sys.argv[1], int(sys.argv[2])
check("version", ptycho.version() == "0.1.0", ptycho.version())


def nrmse(result):
    out = subprocess.run([ptycho_program, "compare", result, "s.cxi"], capture_output=True, text=True, check=True)
    return float(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("nrmse ")))


cli = nrmse("cli.h5")

# 1. the file read by the library
lines = []
ptycho.set_log(lambda level, line: lines.append((level, line)))
seen = []
rec = ptycho.reconstruct("s.cxi", iterations, progress=lambda it, n, err: seen.append((it, err)))
ptycho.set_log(None)
rec.write("py_read")
e = nrmse("py_read.h5")
check("read: NRMSE within 1 % of the program's", abs(e - cli) <= 0.01 * cli, "(%.6g vs %.6g)" % (e, cli))
check("read: progress called once an iteration", [s[0] for s in seen] == list(range(iterations)))
check("read: errors match the progress", np.allclose(rec.errors, [s[1] for s in seen]))
check("read: log lines went to the sink", any("CPU backend" in line for _, line in lines) or rec.backend == "cuda",
      str(lines[:2]))
obj, probe = rec.object, rec.probe
check("read: object and probe arrays", obj.dtype == np.complex64 and obj.ndim == 2 and probe.shape[1:] == (64, 64)
      and np.isfinite(obj).all(), "%s %s" % (obj.shape, probe.shape))

# 2. the same scan from numpy arrays
try:
    import h5py
except ImportError:
    h5py = None
if h5py is None:
    print("SKIPPED  arrays: no h5py")
else:
    with h5py.File("s.cxi", "r") as f:
        frames = f["/entry_1/data_1/data"][()]
        xyz = f["/entry_1/sample_1/geometry_1/translation"][()]
        energy_j = float(f["/entry_1/instrument_1/source_1/energy"][()])
        distance = float(f["/entry_1/instrument_1/detector_1/distance"][()])
        pixel = float(f["/entry_1/instrument_1/detector_1/x_pixel_size"][()])
    wavelength = 6.62607015e-34 * 299792458.0 / energy_j
    dx = wavelength * distance / (frames.shape[1] * pixel)
    positions = np.stack([xyz[:, 1] / dx, xyz[:, 0] / dx], axis=1)  # (row, col) = (y, x) / dx
    scan = ptycho.Scan(frames, positions, wavelength=wavelength, distance=distance, detector_pixel=pixel)
    check("arrays: shape", scan.shape == (frames.shape[0], 64), str(scan.shape))
    rec2 = ptycho.Reconstruction(scan).iterate(iterations)
    rec2.write("py_arrays", images=False)
    e2 = nrmse("py_arrays.h5")
    check("arrays: NRMSE within 1 % of the program's", abs(e2 - cli) <= 0.01 * cli, "(%.6g vs %.6g)" % (e2, cli))

# 3. early stop, settings and errors
rec3 = ptycho.Reconstruction(ptycho.Scan.read("s.cxi"), modes=2, probe_start=2, backend="cpu", threads=1)
rec3.iterate(50, progress=lambda it, n, err: it >= 4)
check("early stop after 5 iterations", len(rec3.errors) == 5, str(len(rec3.errors)))
check("modes=2 gives two probe modes", rec3.probe.shape[0] == 2, str(rec3.probe.shape))
rec4 = ptycho.Reconstruction(rec3._scan, position_correction=0, backend="cpu", threads=1).iterate(3)
moved = np.abs(rec4.positions - rec3.positions).max()  # rec3 does not correct: the scan's own
check("position_correction moves positions, at most 3 x 0.3 px per axis and the mean's share",
      rec4.positions.shape == rec3.positions.shape and 0 < moved <= 1.8, "(largest move %.3g px)" % moved)
for what, call, want in [
    ("missing file", lambda: ptycho.Scan.read("nope.cxi"), "cannot open 'nope.cxi'"),
    ("unknown setting", lambda: ptycho.Reconstruction(scan if h5py else rec3._scan, colour=3), "colour"),
    ("out-of-range setting", lambda: ptycho.Reconstruction(rec3._scan, alpha=5), "--alpha"),
    ("NaN position", lambda: ptycho.Scan(np.ones((2, 16, 16)), [[0, 0], [np.nan, 1]]), "position 1 is not finite"),
]:
    try:
        call()
        check("%s raises PtychoError" % what, False, "no exception")
    except ptycho.PtychoError as err:
        check("%s raises PtychoError" % what, want in str(err), "(%s: %s)" % (err.status, err))
try:
    ptycho.Scan(np.ones((2, 16, 16)), np.zeros((3, 2)))
    check("wrong positions shape raises ValueError", False)
except ValueError as err:
    check("wrong positions shape raises ValueError", True, str(err))

print("%d check(s) failed" % failures if failures else "all checks passed")
sys.exit(1 if failures else 0)
