#!/usr/bin/env python3
"""Convert a CXI scan into DECTRIS Eiger FileWriter-style files (as an Eiger or the APS Velociprobe writes them),
to test ptycho's reader on files made independently of it (numpy + h5py only).

usage: eiger_write.py IN.cxi OUT_PREFIX [--per-file K] [--detector H W] [--center ROW COL] [--no-compress] [--gap]
                      [--drop I J ...] [--shuffle-rows] [--seed S] [--triggers] [--cutoff C]

Reads /entry_1/data_1/data (N, M, M), detector-centred (zero frequency at pixel (M//2, M//2)), source_1/energy (J),
detector_1/distance, x_pixel_size (y_pixel_size if present) (m), translation (m; first of data_1/translation,
sample_1/geometry_1/translation; N x 3 or 3 x N). Writes:

  OUT_PREFIX_data_000001.h5, _000002.h5, ...  up to K frames each (default ceil(N/2)): /entry/data/data, uint32
      (rounded counts), shape (n, H, W), chunks (1, H, W) (one frame per chunk), bitshuffle+LZ4 = HDF5 filter 32008
      (mandatory), user options (block 0, 2 = LZ4), stored by the filter as cd_values (0, version, 4, 0, 2); attributes
      image_nr_low / image_nr_high = 1-based inclusive numbers of the file's first / last image.
  OUT_PREFIX_master.h5
      /entry/data/data_00000k -> external link (data file's basename, relative, '/entry/data/data')
      /entry/instrument/detector: detector_distance (m), x_pixel_size, y_pixel_size (m), beam_center_x,
          beam_center_y (pixel), count_time, frame_time (s), bit_depth_image = bit_depth_readout = 32, description,
          pixel_mask_applied; float32 as in the DECTRIS header docs
      .../detector/detectorSpecific: photon_energy (eV), nimages, ntrigger (N, 1; --triggers: 1, N),
          x_pixels_in_detector (W), y_pixels_in_detector (H), countrate_correction_count_cutoff (default
          max(1e6, largest count)), pixel_mask (uint32 H x W, contiguous; 0 = good)
      /entry/instrument/beam/incident_wavelength (angstrom)
  OUT_PREFIX_positions.csv  'trigger,x_um,y_um', one row per frame: trigger = frame index + 1, x = translation[:,0],
      y = translation[:,1] in micrometres (positions are not in Eiger files; --drop omits frames (0-based) from the CSV
      only, --shuffle-rows writes the rows in a seeded random order).

Geometry: the detector is H x W (default (M+40) x (M+56)), zero elsewhere; frame pixel (M//2, M//2) lands on detector
pixel (ROW, COL) (default (H//2 + 7, W//2 - 5)). Eiger convention: x is the fast axis = column (last index), y the
slow axis = row, so beam_center_x = COL, beam_center_y = ROW, as 0-based pixel indices (the way ptychodus crops
Velociprobe frames; dxtbx would put the beam half a pixel off, on the corner of that pixel).
--gap: a 2-row horizontal and a 2-column vertical gap across the whole detector, crossing the M x M region a quarter
and three quarters in (off its centre): pixel_mask bit 0 (value 1, "gap") and frame value 2^32-1 there (the value
an Eiger gives every masked pixel with pixel_mask_applied). Counts are clipped to 2^32-3 (2^n-1 and 2^n-2 are flags).

Sources: DECTRIS header docs (NeXus, HDF5); dectris/neggia README.md, src/dectris/neggia/user/Dataset.cpp (frame-wise
chunks, cd_values[4] == 2, relative link names); cctbx/dxtbx src/dxtbx/nexus/__init__.py (beam centre along the
fast/slow axes); keitaroyam/yamtbx yamtbx/dataproc/eiger.py (image_nr_low/high, the 2^n-1 flag); dials nxmx (pixel_mask
bits); kiyo-masui/bitshuffle src/bshuf_h5filter.c (user options moved up 3 slots, so pass (0, 2), not (0,0,0,0,2)).
"""
import argparse, math, os, sys

import numpy as np
import h5py

BSHUF = 32008
PLUGIN_DIRS = ("/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins", "/usr/lib/x86_64-linux-gnu/hdf5/plugins",
               "/usr/local/hdf5/lib/plugin")
OVERFLOW = 2**32 - 1
E_CHARGE, H_PLANCK, C_LIGHT = 1.602176634e-19, 6.62607015e-34, 299792458.0


def need_bitshuffle():
    if h5py.h5z.filter_avail(BSHUF):
        return
    for d in PLUGIN_DIRS:
        if os.path.isdir(d):
            h5py.h5pl.prepend(d.encode())  # first: a missing directory earlier in the list ends HDF5 1.10's search
    if not h5py.h5z.filter_avail(BSHUF):
        sys.exit("eiger_write: the HDF5 bitshuffle filter (32008) is not available: install Debian's 'bitshuffle' "
                 "and 'hdf5-filter-plugin' packages (or set HDF5_PLUGIN_PATH), or pass --no-compress")


def read_cxi(path):
    with h5py.File(path, "r") as f:
        I = f["/entry_1/data_1/data"][()]
        det = f["/entry_1/instrument_1/detector_1"]
        px = float(det["x_pixel_size"][()])
        py = float(det["y_pixel_size"][()]) if "y_pixel_size" in det else px
        energy = float(f["/entry_1/instrument_1/source_1/energy"][()])
        dist = float(det["distance"][()])
        t = None
        for p in ("/entry_1/data_1/translation", "/entry_1/sample_1/geometry_1/translation"):
            if p in f:
                t = np.asarray(f[p][()], dtype=float)
                break
    if t is None:
        sys.exit("eiger_write: %s has no translation" % path)
    if t.ndim == 2 and t.shape[0] in (2, 3) and t.shape[1] == I.shape[0] and t.shape[1] not in (2, 3):
        t = t.T  # PyNX's 3 x N
    if I.ndim != 3 or I.shape[1] != I.shape[2] or t.shape[0] != I.shape[0]:
        sys.exit("eiger_write: want N x M x M frames and N translations, got %s and %s" % (I.shape, t.shape))
    return I, px, py, energy, dist, t


def put(group, name, value, dtype, units=None):
    ds = group.create_dataset(name, data=np.asarray(value, dtype=dtype))
    if units:
        ds.attrs["units"] = np.bytes_(units)
    return ds


def nx_group(parent, name, nx_class):
    g = parent.require_group(name)
    g.attrs["NX_class"] = np.bytes_(nx_class)
    return g


def write_data_file(path, frames, first, compress):
    n, H, W = frames.shape
    with h5py.File(path, "w") as f:
        g = nx_group(nx_group(f, "entry", "NXentry"), "data", "NXdata")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((1, H, W))
        if compress:  # (block size 0 = automatic, 2 = LZ4); the filter fills cd_values[0:3] itself
            dcpl.set_filter(BSHUF, h5py.h5z.FLAG_MANDATORY, (0, 2))
        dsid = h5py.h5d.create(g.id, b"data", h5py.h5t.STD_U32LE, h5py.h5s.create_simple((n, H, W)), dcpl=dcpl)
        ds = h5py.Dataset(dsid)
        ds[...] = frames
        ds.attrs["image_nr_low"] = np.int64(first)
        ds.attrs["image_nr_high"] = np.int64(first + n - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("prefix")
    ap.add_argument("--per-file", type=int, help="frames per data file (default ceil(N/2))")
    ap.add_argument("--detector", type=int, nargs=2, metavar=("H", "W"))
    ap.add_argument("--center", type=int, nargs=2, metavar=("ROW", "COL"), help="detector pixel of zero frequency")
    ap.add_argument("--no-compress", action="store_true")
    ap.add_argument("--gap", action="store_true")
    ap.add_argument("--drop", type=int, nargs="+", default=[], metavar="I", help="frames (0-based) left out of CSV")
    ap.add_argument("--shuffle-rows", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--triggers", action="store_true", help="nimages = 1, ntrigger = N (default N, 1)")
    ap.add_argument("--cutoff", type=int, help="countrate_correction_count_cutoff (default max(1e6, max count))")
    a = ap.parse_args()

    I, px, py, energy, dist, t = read_cxi(a.input)
    N, M = I.shape[0], I.shape[1]
    H, W = a.detector or (M + 40, M + 56)
    row, col = a.center or (H // 2 + 7, W // 2 - 5)
    r0, c0 = row - M // 2, col - M // 2
    if r0 < 0 or c0 < 0 or r0 + M > H or c0 + M > W:
        sys.exit("eiger_write: the %dx%d frame at (%d, %d) does not fit the %dx%d detector" % (M, M, row, col, H, W))
    K = a.per_file or max(1, math.ceil(N / 2))
    if not a.no_compress:
        need_bitshuffle()

    counts = np.rint(np.nan_to_num(np.asarray(I, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0))
    clipped = int(np.count_nonzero((counts < 0) | (counts > 2**32 - 3)))
    counts = np.clip(counts, 0, 2**32 - 3).astype(np.uint32)
    frames = np.zeros((N, H, W), np.uint32)
    frames[:, r0:r0 + M, c0:c0 + M] = counts
    mask = np.zeros((H, W), np.uint32)
    if a.gap:
        gr, gc = r0 + M // 4, c0 + (3 * M) // 4
        mask[gr:gr + 2, :] |= 1
        mask[:, gc:gc + 2] |= 1
        frames[:, mask != 0] = OVERFLOW
    cutoff = a.cutoff if a.cutoff is not None else max(1000000, int(counts.max()))

    out_dir = os.path.dirname(a.prefix)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    links = []
    for k, start in enumerate(range(0, N, K), 1):
        name = "%s_data_%06d.h5" % (a.prefix, k)
        write_data_file(name, frames[start:start + K], start + 1, not a.no_compress)
        links.append(("data_%06d" % k, os.path.basename(name)))

    with h5py.File(a.prefix + "_master.h5", "w") as f:
        entry = nx_group(f, "entry", "NXentry")
        data = nx_group(entry, "data", "NXdata")
        for key, fname in links:
            data[key] = h5py.ExternalLink(fname, "/entry/data/data")
        inst = nx_group(entry, "instrument", "NXinstrument")
        det = nx_group(inst, "detector", "NXdetector")
        put(det, "description", np.bytes_("Dectris EIGER (synthetic, eiger_write.py)"), None)
        put(det, "detector_distance", dist, np.float32, "m")
        put(det, "x_pixel_size", px, np.float32, "m")
        put(det, "y_pixel_size", py, np.float32, "m")
        put(det, "beam_center_x", col, np.float32, "pixel")
        put(det, "beam_center_y", row, np.float32, "pixel")
        put(det, "count_time", 1e-3, np.float32, "s")
        put(det, "frame_time", 1e-3, np.float32, "s")
        put(det, "bit_depth_image", 32, np.uint32)
        put(det, "bit_depth_readout", 32, np.uint32)
        put(det, "pixel_mask_applied", True, np.bool_)
        spec = nx_group(det, "detectorSpecific", "NXcollection")
        put(spec, "photon_energy", energy / E_CHARGE, np.float32, "eV")
        put(spec, "nimages", 1 if a.triggers else N, np.uint64)
        put(spec, "ntrigger", N if a.triggers else 1, np.uint64)
        put(spec, "x_pixels_in_detector", W, np.uint32)
        put(spec, "y_pixels_in_detector", H, np.uint32)
        put(spec, "countrate_correction_count_cutoff", cutoff, np.uint32)
        put(spec, "pixel_mask", mask, np.uint32)
        beam = nx_group(inst, "beam", "NXbeam")
        put(beam, "incident_wavelength", H_PLANCK * C_LIGHT / energy * 1e10, np.float32, "angstrom")

    drop = set(a.drop)
    if any(i < 0 or i >= N for i in drop):
        sys.exit("eiger_write: --drop indices must be in 0..%d" % (N - 1))
    rows = [i for i in range(N) if i not in drop]
    if a.shuffle_rows:
        rows = [rows[j] for j in np.random.default_rng(a.seed).permutation(len(rows))]
    with open(a.prefix + "_positions.csv", "w") as f:
        f.write("trigger,x_um,y_um\n")
        for i in rows:
            f.write("%d,%.12g,%.12g\n" % (i + 1, t[i, 0] * 1e6, t[i, 1] * 1e6))

    print("eiger_write: %d frames %dx%d -> %dx%d detector, zero frequency at (row %d, col %d), %d data file(s) of "
          "<= %d, %s%s%s; %d position rows (%d dropped%s) -> %s_master.h5"
          % (N, M, M, H, W, row, col, len(links), K, "uncompressed" if a.no_compress else "bitshuffle/LZ4",
             ", gap rows %d-%d cols %d-%d" % (gr, gr + 1, gc, gc + 1) if a.gap else "",
             ", %d counts clipped" % clipped if clipped else "", len(rows), N - len(rows),
             ", shuffled" if a.shuffle_rows else "", a.prefix))


if __name__ == "__main__":
    main()
