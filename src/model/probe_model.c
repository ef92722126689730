/* probe_model.c - aperture and Gaussian probe models, Fourier sub-pixel shifts.
 *
 * The aperture is built in the pupil plane, where a zone plate's focusing is
 * a clean disc with a quadratic (defocus) phase; the sample sits out of focus
 * so the spot is the size the user asks for and its far field is a filled
 * disc, as at a real scanning beamline. */
#include "probe_model.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pty_error.h"

#ifndef M_PI /* not in strict C11 */
#define M_PI 3.14159265358979323846
#endif

int pty_probe_kind_parse(const char *s, pty_probe_kind *kind)
{
    if (s && strcasecmp(s, "aperture") == 0) *kind = PTY_PROBE_APERTURE;
    else if (s && strcasecmp(s, "gaussian") == 0) *kind = PTY_PROBE_GAUSSIAN;
    else if (s && strcasecmp(s, "disc") == 0) *kind = PTY_PROBE_DISC;
    else return pty_error_set(PTY_ERR_ARG, "--probe must be one of aperture|gaussian|disc, got '%s'", s ? s : "");
    return PTY_OK;
}

const char *pty_probe_kind_name(pty_probe_kind kind)
{
    return kind == PTY_PROBE_GAUSSIAN ? "gaussian" : kind == PTY_PROBE_DISC ? "disc" : "aperture";
}

int pty_probe_normalise(pty_cf *p, size_t npix, double power)
{
    double sum = 0.0;
    for (size_t i = 0; i < npix; i++) sum += pty_cabs2(p[i]);
    PTY_CHECK(sum > 0.0 && isfinite(sum), PTY_ERR_DATA, "probe model has no power");
    float s = (float)sqrt(power / sum);
    for (size_t i = 0; i < npix; i++) {
        p[i].re *= s;
        p[i].im *= s;
    }
    return PTY_OK;
}

int pty_probe_pupil(const float *modulus, int m, double radius, double curvature, pty_cf *out)
{
    PTY_CHECK(m >= 4, PTY_ERR_ARG, "probe size %d is too small (need >= 4 pixels)", m);
    PTY_CHECK(modulus || (radius > 0 && isfinite(radius)), PTY_ERR_ARG, "pupil radius %g pixels must be positive",
              radius);
    PTY_CHECK(isfinite(curvature), PTY_ERR_ARG, "pupil curvature %g is not finite", curvature);
    /* A disc pupil is evaluated on a window twice as wide, then cropped: the
       beam's tails beyond the frame are cut off as a real window cuts them,
       not wrapped onto the far side (a beam filling 90 % of the window:
       correlation with an independent Fresnel model 0.992 wrapped).  A
       measured modulus exists only on the frame's own grid. */
    const int c = modulus ? m : 2 * m, s = c / m;
    const size_t nc = (size_t)c * c;
    fftwf_complex *buf = fftwf_alloc_complex(nc);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate a %dx%d probe", c, c);
    fftwf_plan inv = fftwf_plan_dft_2d(c, c, buf, buf, FFTW_BACKWARD, FFTW_ESTIMATE);
    if (!inv) {
        fftwf_free(buf);
        return pty_error_set(PTY_ERR_FFT, "FFTW could not plan a %dx%d probe", c, c);
    }
    /* pupil directly in FFT order (frequencies in the frame's pixels, 1/s
       apart); symmetric in q, so the real-space probe is centred */
    for (int u = 0; u < c; u++) {
        for (int v = 0; v < c; v++) {
            const double q = hypot(pty_signed_freq(u, c), pty_signed_freq(v, c)) / s;
            const size_t i = (size_t)u * c + v;
            const double wgt = modulus ? modulus[i] : fmin(1.0, fmax(0.0, s * (radius - q) + 0.5));
            const double phi = curvature * q * q;
            buf[i][0] = (float)(wgt * cos(phi));
            buf[i][1] = (float)(wgt * sin(phi));
        }
    }
    fftwf_execute(inv);
    /* fftshift (FFT index k to centred index (k + c/2) mod c), then the
       central m x m */
    for (int y = 0; y < m; y++)
        for (int x = 0; x < m; x++) {
            const int u = (y - m / 2 + c) % c, v = (x - m / 2 + c) % c;
            fftwf_complex *z = &buf[(size_t)u * c + v];
            out[(size_t)y * m + x] = pty_cf_make((*z)[0], (*z)[1]);
        }
    fftwf_destroy_plan(inv);
    fftwf_free(buf);
    return PTY_OK;
}

double pty_pupil_curvature(int m, double radius, double spot_px)
{
    /* a ray leaving the pupil edge q = a lands m/(2 pi) d(phi)/dq = m c a / pi
       pixels off axis, half the spot */
    return M_PI * spot_px / (2.0 * m * radius);
}

/* The simulator's aperture: a pupil a quarter of the frame in radius (the
   far field fills half the detector), defocused to the asked spot. */
static int aperture(int m, double diameter_px, pty_cf *out)
{
    const double a = m / 4.0;
    return pty_probe_pupil(NULL, m, a, pty_pupil_curvature(m, a, diameter_px), out);
}

int pty_lens_pupil(const pty_lens *lens, int m, double wavelength_m, double distance_m, double detector_pixel_m,
                   double *radius, double *curvature)
{
    PTY_CHECK(lens->aperture_m > 0 && isfinite(lens->aperture_m), PTY_ERR_ARG,
              "--probe-aperture must be a positive diameter in metres (got %g)", lens->aperture_m);
    PTY_CHECK(lens->focal_length_m > 0 && isfinite(lens->focal_length_m), PTY_ERR_ARG,
              "--probe-focal-length must be positive, in metres (got %g)", lens->focal_length_m);
    PTY_CHECK(isfinite(lens->defocus_m), PTY_ERR_ARG, "--probe-defocus must be finite (got %g)", lens->defocus_m);
    PTY_CHECK(wavelength_m > 0 && distance_m > 0 && detector_pixel_m > 0, PTY_ERR_ARG,
              "--probe-model aperture needs the energy, detector distance and detector pixel size (from the file or "
              "--energy, --distance, --pixel-size)");
    /* the lens's cone, half-angle A / 2f, seen from the sample on the detector */
    const double a = lens->aperture_m * distance_m / (2.0 * lens->focal_length_m * detector_pixel_m);
    PTY_CHECK(a >= 1.0 && a <= m / 2.0, PTY_ERR_ARG,
              "--probe-aperture %g m with --probe-focal-length %g m lights a disc of radius %.3g detector pixels; "
              "it must be between 1 and half the frame (%d)",
              lens->aperture_m, lens->focal_length_m, a, m / 2);
    /* Fresnel propagation by the defocus: the angular spectrum at spatial
       frequency nu = q p / (lambda z) takes the phase -pi lambda dz nu^2 */
    const double c = -M_PI * lens->defocus_m * detector_pixel_m * detector_pixel_m /
                     (wavelength_m * distance_m * distance_m);
    const double spot = 2.0 * m * fabs(c) * a / M_PI;
    PTY_CHECK(spot <= m, PTY_ERR_ARG,
              "--probe-defocus %g m makes a beam %.0f pixels wide, wider than the %d-pixel window: the frames "
              "cannot hold it (check the defocus and the optics)",
              lens->defocus_m, spot, m);
    *radius = a;
    *curvature = c;
    return PTY_OK;
}

int pty_probe_lens(const pty_lens *lens, int m, double wavelength_m, double distance_m, double detector_pixel_m,
                   double power, pty_cf *out)
{
    double a = 0.0, c = 0.0;
    PTY_TRY(pty_lens_pupil(lens, m, wavelength_m, distance_m, detector_pixel_m, &a, &c));
    PTY_TRY(pty_probe_pupil(NULL, m, a, c, out));
    return pty_probe_normalise(out, (size_t)m * m, power);
}

static void gaussian(int m, double diameter_px, pty_cf *out)
{
    /* intensity exp(-r^2 / (2 s^2)) has FWHM 2 sqrt(2 ln 2) s; amplitude is its root */
    const double s = diameter_px / (2.0 * sqrt(2.0 * log(2.0)));
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double d2 = (double)(r - m / 2) * (r - m / 2) + (double)(c - m / 2) * (c - m / 2);
            out[(size_t)r * m + c] = pty_cf_make((float)exp(-d2 / (4.0 * s * s)), 0.0f);
        }
}

static void disc(int m, double diameter_px, pty_cf *out)
{
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            const double dist = hypot(r - m / 2, c - m / 2);
            out[(size_t)r * m + c] = pty_cf_make((float)fmin(1.0, fmax(0.0, 0.5 * diameter_px + 0.5 - dist)), 0.0f);
        }
}

int pty_probe_model(pty_probe_kind kind, int m, double diameter_px, double power, pty_cf *out)
{
    PTY_CHECK(m >= 4, PTY_ERR_ARG, "probe size %d is too small (need >= 4 pixels)", m);
    PTY_CHECK(diameter_px > 0 && isfinite(diameter_px), PTY_ERR_ARG, "probe diameter %g pixels must be positive",
              diameter_px);
    PTY_CHECK(power > 0 && isfinite(power), PTY_ERR_ARG, "probe power %g must be positive", power);
    if (kind == PTY_PROBE_APERTURE) PTY_TRY(aperture(m, diameter_px, out));
    else if (kind == PTY_PROBE_DISC) disc(m, diameter_px, out);
    else gaussian(m, diameter_px, out);
    return pty_probe_normalise(out, (size_t)m * m, power);
}

int pty_probe_phase_ramp(pty_cf *spectrum, int m, double dr, double dc)
{
    /* separable: exp(-2 pi i k_r dr / m) * exp(-2 pi i k_c dc / m) */
    pty_cf *col = malloc((size_t)m * sizeof *col);
    PTY_CHECK(col, PTY_ERR_NOMEM, "cannot allocate a %d-pixel phase ramp", m);
    for (int v = 0; v < m; v++) {
        double t = -2.0 * M_PI * pty_signed_freq(v, m) * dc / m;
        col[v] = pty_cf_make((float)cos(t), (float)sin(t));
    }
    for (int u = 0; u < m; u++) {
        double t = -2.0 * M_PI * pty_signed_freq(u, m) * dr / m;
        pty_cf rowf = pty_cf_make((float)cos(t), (float)sin(t));
        pty_cf *line = spectrum + (size_t)u * m;
        for (int v = 0; v < m; v++) line[v] = pty_cmul(line[v], pty_cmul(rowf, col[v]));
    }
    free(col);
    return PTY_OK;
}

int pty_probe_shift(pty_cf *probe, int m, double dr, double dc)
{
    const size_t npix = (size_t)m * m;
    fftwf_complex *buf = fftwf_alloc_complex(npix);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate a %dx%d probe", m, m);
    fftwf_plan fwd = fftwf_plan_dft_2d(m, m, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_2d(m, m, buf, buf, FFTW_BACKWARD, FFTW_ESTIMATE);
    int rc = PTY_OK;
    if (!fwd || !inv) {
        rc = pty_error_set(PTY_ERR_FFT, "FFTW could not plan a %dx%d probe shift", m, m);
    } else {
        memcpy(buf, probe, npix * sizeof *probe);
        fftwf_execute(fwd);
        rc = pty_probe_phase_ramp((pty_cf *)buf, m, dr, dc);
        fftwf_execute(inv);
        const float inv_n = 1.0f / (float)npix;
        if (rc == PTY_OK)
            for (size_t i = 0; i < npix; i++) probe[i] = pty_cf_make(buf[i][0] * inv_n, buf[i][1] * inv_n);
    }
    if (fwd) fftwf_destroy_plan(fwd);
    if (inv) fftwf_destroy_plan(inv);
    fftwf_free(buf);
    return rc;
}
