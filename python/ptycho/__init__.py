"""ptycho: ePIE ptychographic reconstruction with incoherent probe modes
(CPU or CUDA), a ctypes binding of libptycho's C interface (ptycho.h).

    scan = ptycho.Scan.read("scan.cxi")            # or ptycho.Scan(intensities, positions)
    rec = ptycho.Reconstruction(scan, modes=3)     # settings: `ptycho recon` flags, '-' as '_'
    rec.iterate(100)
    rec.object, rec.probe, rec.errors              # numpy arrays
    rec.write("result")                            # result.h5 + images, as the command line

Conventions are the library's: intensities (N, m, m) detector-centred, positions
(N, 2) probe centres (row, col) in object pixels, complex arrays complex64.
Failures raise PtychoError carrying the library's message.
"""
import ctypes
import os

import numpy as np

__all__ = ["PtychoError", "Scan", "Reconstruction", "reconstruct", "set_log", "version"]

_c_double_p = ctypes.POINTER(ctypes.c_double)
_PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_double)
_LOG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.environ.get("PTYCHO_LIBRARY"), os.path.join(here, "libptycho.so"), "libptycho.so.0"):
        if not path:
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            last = e
    raise ImportError("ptycho: cannot load libptycho.so (%s); reinstall with the library built, or set "
                      "PTYCHO_LIBRARY" % last)


_lib = _load()


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_vp, _int, _dbl, _str = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
_pvp, _pint = ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int)
_declare("ptycho_version", _str)
_declare("ptycho_error_message", _str)
_declare("ptycho_status_name", _str, _int)
_declare("ptycho_set_log", None, _LOG, _vp)
_declare("ptycho_set_log_level", None, _int)
_declare("ptycho_settings_create", _int, _pvp)
_declare("ptycho_settings_set", _int, _vp, _str, _str)
_declare("ptycho_settings_destroy", None, _vp)
_declare("ptycho_scan_create", _int, _int, _int, _vp, _vp, _vp, _pvp)
_declare("ptycho_scan_set_geometry", _int, _vp, _dbl, _dbl, _dbl)
_declare("ptycho_scan_set_probe", _int, _vp, _int, _vp)
_declare("ptycho_scan_read", _int, _str, _vp, _pvp)
_declare("ptycho_scan_shape", _int, _vp, _pint, _pint)
_declare("ptycho_scan_destroy", None, _vp)
_declare("ptycho_recon_create", _int, _vp, _vp, _pvp)
_declare("ptycho_recon_iterate", _int, _vp, _int, _PROGRESS, _vp)
_declare("ptycho_recon_object_shape", None, _vp, _pint, _pint, _c_double_p)
_declare("ptycho_recon_get_object", _int, _vp, _vp)
_declare("ptycho_recon_probe_shape", None, _vp, _pint, _pint)
_declare("ptycho_recon_get_probe", _int, _vp, _vp)
_declare("ptycho_recon_get_positions", _int, _vp, _vp)
_declare("ptycho_recon_errors", _c_double_p, _vp, _pint)
_declare("ptycho_recon_verdict", _int, _vp, _str, ctypes.c_size_t)
_declare("ptycho_recon_backend", _str, _vp)
_declare("ptycho_recon_probe_start", _str, _vp)
_declare("ptycho_recon_write", _int, _vp, _str, _int)
_declare("ptycho_recon_destroy", None, _vp)


class PtychoError(RuntimeError):
    """A libptycho call failed; str() is the library's message, .status its code name."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _check(rc):
    if rc != 0:
        raise PtychoError(_lib.ptycho_status_name(rc).decode(), _lib.ptycho_error_message().decode())


def version():
    """The loaded library's version, e.g. '0.1.0'."""
    return _lib.ptycho_version().decode()


_log_sink = None  # the ctypes callback must stay alive while the library holds it


def set_log(sink, level=None):
    """Route the library's messages to sink(level, line) (levels: 0 error, 1 warning,
    2 info, 3 debug); None restores stdout/stderr.  `level` drops lines above it."""
    global _log_sink
    if sink is None:
        _log_sink = None
        _lib.ptycho_set_log(_LOG(), None)
    else:
        _log_sink = _LOG(lambda user, lvl, line: sink(lvl, line.decode(errors="replace")))
        _lib.ptycho_set_log(_log_sink, None)
    if level is not None:
        _lib.ptycho_set_log_level(int(level))


def _setting_value(value):
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


class _Settings:
    def __init__(self, settings):
        self.handle = ctypes.c_void_p()
        _check(_lib.ptycho_settings_create(ctypes.byref(self.handle)))
        for name, value in settings.items():
            _check(_lib.ptycho_settings_set(self.handle, name.replace("_", "-").encode(),
                                            _setting_value(value).encode()))

    def __del__(self):
        if getattr(self, "handle", None):
            _lib.ptycho_settings_destroy(self.handle)
            self.handle = None


class Scan:
    """A scan in memory: intensity frames and probe positions (and optionally the
    geometry and a first probe)."""

    def __init__(self, intensities, positions, mask=None, probe=None, wavelength=0.0, distance=0.0,
                 detector_pixel=0.0):
        """intensities (N, m, m), detector-centred counts; positions (N, 2) probe centres
        (row, col) in object pixels; mask (m, m), non-zero = bad pixel; probe (m, m) or
        (K, m, m) complex, the first probe; wavelength, distance, detector_pixel in metres
        (0 = unknown).  The arrays are read (without a copy when already float32/float64
        C-contiguous), not kept."""
        frames = np.ascontiguousarray(intensities, dtype=np.float32)
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        if frames.ndim != 3 or frames.shape[1] != frames.shape[2]:
            raise ValueError("intensities must be (N, m, m), got shape %s" % (frames.shape,))
        if pos.shape != (frames.shape[0], 2):
            raise ValueError("positions must be (N, 2) = (%d, 2), got shape %s" % (frames.shape[0], pos.shape))
        mask_arr = None
        if mask is not None:
            mask_arr = np.ascontiguousarray(np.asarray(mask) != 0, dtype=np.uint8)
            if mask_arr.shape != frames.shape[1:]:
                raise ValueError("mask must be (m, m) = %s, got shape %s" % (frames.shape[1:], mask_arr.shape))
        self._handle = ctypes.c_void_p()
        _check(_lib.ptycho_scan_create(frames.shape[0], frames.shape[1], frames.ctypes.data, pos.ctypes.data,
                                       mask_arr.ctypes.data if mask_arr is not None else None,
                                       ctypes.byref(self._handle)))
        if wavelength or distance or detector_pixel:
            _check(_lib.ptycho_scan_set_geometry(self._handle, wavelength, distance, detector_pixel))
        if probe is not None:
            p = np.ascontiguousarray(probe, dtype=np.complex64)
            if p.ndim == 2:
                p = p[None]
            if p.ndim != 3 or p.shape[1:] != frames.shape[1:]:
                raise ValueError("probe must be (m, m) or (K, m, m) with m = %d, got shape %s"
                                 % (frames.shape[1], np.shape(probe)))
            _check(_lib.ptycho_scan_set_probe(self._handle, p.shape[0], p.ctypes.data))

    @classmethod
    def read(cls, path, **settings):
        """Read a CXI/HDF5 scan; settings are recon's reader flags (frames, positions,
        positions_px, probe, mask, energy, distance, pixel_size, transpose, flip_x, flip_y)."""
        s = _Settings(settings)
        scan = cls.__new__(cls)
        scan._handle = ctypes.c_void_p()
        _check(_lib.ptycho_scan_read(os.fsencode(path), s.handle, ctypes.byref(scan._handle)))
        return scan

    @property
    def shape(self):
        """(N, m): frames and frame side."""
        n, m = ctypes.c_int(), ctypes.c_int()
        _check(_lib.ptycho_scan_shape(self._handle, ctypes.byref(n), ctypes.byref(m)))
        return n.value, m.value

    def __del__(self):
        if getattr(self, "_handle", None):
            _lib.ptycho_scan_destroy(self._handle)
            self._handle = None


class Reconstruction:
    """An ePIE reconstruction of a Scan, planned once and iterated as often as asked."""

    def __init__(self, scan, **settings):
        """settings: `ptycho recon`'s ePIE and first-probe flags with '-' written '_',
        e.g. modes=3, alpha=1.0, probe_start=10, probe_model="aperture", backend="cpu",
        threads=2, seed=1; True/False for on|off switches."""
        self._scan = scan  # the plan reads the scan's frames in place
        s = _Settings(settings)
        self._handle = ctypes.c_void_p()
        _check(_lib.ptycho_recon_create(scan._handle, s.handle, ctypes.byref(self._handle)))

    def iterate(self, n, progress=None):
        """Run n more iterations.  progress(iteration, n, error) is called after each;
        a true return value stops early.  An exception in it stops and is re-raised."""
        raised = []

        def relay(user, it, total, err):
            try:
                return 1 if progress(it, total, err) else 0
            except BaseException as e:  # noqa: B902 - carried across the C frames
                raised.append(e)
                return 1

        cb = _PROGRESS(relay) if progress else _PROGRESS()
        rc = _lib.ptycho_recon_iterate(self._handle, int(n), cb, None)
        if raised:
            raise raised[0]
        _check(rc)
        return self

    @property
    def object(self):
        """The object, complex64 (h, w)."""
        h, w = ctypes.c_int(), ctypes.c_int()
        _lib.ptycho_recon_object_shape(self._handle, ctypes.byref(h), ctypes.byref(w), None)
        out = np.empty((h.value, w.value), dtype=np.complex64)
        _check(_lib.ptycho_recon_get_object(self._handle, out.ctypes.data))
        return out

    @property
    def origin(self):
        """(row, col) on the object grid where position (0, 0) falls."""
        o = (ctypes.c_double * 2)()
        _lib.ptycho_recon_object_shape(self._handle, None, None, o)
        return (o[0], o[1])

    @property
    def probe(self):
        """The probe modes, complex64 (K, m, m)."""
        k, m = ctypes.c_int(), ctypes.c_int()
        _lib.ptycho_recon_probe_shape(self._handle, ctypes.byref(k), ctypes.byref(m))
        out = np.empty((k.value, m.value, m.value), dtype=np.complex64)
        _check(_lib.ptycho_recon_get_probe(self._handle, out.ctypes.data))
        return out

    @property
    def positions(self):
        """Probe centres (row, col), object pixels, float64 (n, 2): where position_correction moved
        them, else the scan's own."""
        n = self._scan.shape[0]
        out = np.empty((n, 2), dtype=np.float64)
        _check(_lib.ptycho_recon_get_positions(self._handle, out.ctypes.data))
        return out

    @property
    def errors(self):
        """Fourier error per iteration so far (a copy)."""
        n = ctypes.c_int()
        p = _lib.ptycho_recon_errors(self._handle, ctypes.byref(n))
        return np.ctypeslib.as_array(p, shape=(n.value,)).copy() if n.value else np.empty(0)

    @property
    def verdict(self):
        """(0, '') converged; (1, advice) stalled; (2, advice) still falling, far above the noise floor."""
        buf = ctypes.create_string_buffer(1024)
        v = _lib.ptycho_recon_verdict(self._handle, buf, len(buf))
        return v, buf.value.decode()

    @property
    def backend(self):
        return _lib.ptycho_recon_backend(self._handle).decode()

    @property
    def probe_start(self):
        """How the first probe was chosen."""
        return _lib.ptycho_recon_probe_start(self._handle).decode()

    def write(self, prefix, images=True):
        """PREFIX.h5 (the command line's result layout) and, with images, TIFF/PNG images."""
        _check(_lib.ptycho_recon_write(self._handle, os.fsencode(prefix), 1 if images else 0))

    def __del__(self):
        if getattr(self, "_handle", None):
            _lib.ptycho_recon_destroy(self._handle)
            self._handle = None


def reconstruct(scan, iterations=100, progress=None, **settings):
    """Reconstruct a Scan or a CXI file's path: Reconstruction(scan, **settings) iterated
    `iterations` times.  For a path, reader settings (positions_px, probe, ...) go to
    Scan.read and the rest to the reconstruction."""
    if not isinstance(scan, Scan):
        reader = {"frames", "positions", "positions_px", "energy", "distance", "pixel_size", "mask", "probe",
                  "transpose", "flip_x", "flip_y"}
        scan = Scan.read(scan, **{k: v for k, v in settings.items() if k in reader})
        settings = {k: v for k, v in settings.items() if k not in reader}
    return Reconstruction(scan, **settings).iterate(iterations, progress)
