/* tiff_io.c - float32 TIFF stacks in ImageJ's layout (libtiff) and
 * grayscale TIFF input.
 *
 * Stacks: all IFDs are written first with their strip arrays deferred, then
 * the pixel data of every page back to back, because ImageJ reads an
 * "images=N" stack as N contiguous images starting at the first page's data. */
#include "tiff_io.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "pty_error.h"
#include "staging.h"

/* libtiff reports through process-wide handlers; keep its last error for our
 * message instead of letting it print to stderr. */
static char tiff_last_error[256];

static void capture_error(const char *module, const char *fmt, va_list ap)
{
    (void)module;
    vsnprintf(tiff_last_error, sizeof tiff_last_error, fmt, ap);
}

static void ignore_warning(const char *module, const char *fmt, va_list ap)
{
    (void)module;
    (void)fmt;
    (void)ap;
}

typedef struct {
    TIFFErrorHandler error, warning;
} handlers;

static handlers quiet_libtiff(void)
{
    tiff_last_error[0] = '\0';
    handlers h = {TIFFSetErrorHandler(capture_error), TIFFSetWarningHandler(ignore_warning)};
    return h;
}

static void restore_libtiff(handlers h)
{
    TIFFSetErrorHandler(h.error);
    TIFFSetWarningHandler(h.warning);
}

/* ImageJ description: stack size, display range and unit, then the caller's text. */
static char *imagej_description(const float *pages, size_t count, int n_pages, double pixel_size_m,
                                const char *description)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        double v = pages[i];
        if (!isfinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (!(lo <= hi)) lo = hi = 0.0;
    size_t len = 256 + (description ? strlen(description) : 0);
    char *s = malloc(len);
    if (!s) return NULL;
    int n = snprintf(s, len, "ImageJ=1.11a\n");
    if (n_pages > 1) n += snprintf(s + n, len - n, "images=%d\nslices=%d\nloop=false\n", n_pages, n_pages);
    /* "um" (not "micron") is the unit ImageJ rescales from centimetre resolution tags */
    if (pixel_size_m > 0) n += snprintf(s + n, len - n, "unit=um\n");
    n += snprintf(s + n, len - n, "min=%.9g\nmax=%.9g\n", lo, hi);
    if (description && *description) snprintf(s + n, len - n, "%s\n", description);
    return s;
}

static int set_page_tags(TIFF *tif, int h, int w, int page, int n_pages, double pixel_size_m, const char *desc)
{
    int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)w) && TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)h) &&
             TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 32) && TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
             TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP) &&
             TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE) &&
             TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)h) &&
             TIFFSetField(tif, TIFFTAG_SOFTWARE, "ptycho");
    if (ok && n_pages > 1) ok = TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) &&
                                TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)page, (uint16_t)n_pages);
    if (ok && pixel_size_m > 0) {
        float per_cm = (float)(1.0 / (pixel_size_m * 100.0));
        ok = TIFFSetField(tif, TIFFTAG_XRESOLUTION, per_cm) && TIFFSetField(tif, TIFFTAG_YRESOLUTION, per_cm) &&
             TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    }
    /* ImageJ reads the description of the first page only */
    if (ok && page == 0) ok = TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, desc);
    return ok;
}

static int write_pages(TIFF *tif, const float *pages, int n_pages, int h, int w, double pixel_size_m,
                       const char *desc)
{
    const tmsize_t page_bytes = (tmsize_t)h * w * (tmsize_t)sizeof(float);
    for (int p = 0; p < n_pages; p++) {
        if (p > 0) {
            TIFFFreeDirectory(tif);
            TIFFCreateDirectory(tif);
        }
        if (!set_page_tags(tif, h, w, p, n_pages, pixel_size_m, desc) || !TIFFDeferStrileArrayWriting(tif) ||
            !TIFFWriteCheck(tif, 0, "pty_tiff_write_float") || !TIFFWriteDirectory(tif))
            return 0;
    }
    for (int p = 0; p < n_pages; p++)
        if (!TIFFSetDirectory(tif, (tdir_t)p) || !TIFFForceStrileArrayWriting(tif)) return 0;
    /* now the data, page after page at the end of the file: contiguous */
    float *row_buf = malloc((size_t)page_bytes);
    if (!row_buf) return 0;
    int ok = 1;
    for (int p = 0; p < n_pages && ok; p++) {
        /* libtiff may swap bytes in place on big-endian hosts: write a copy */
        memcpy(row_buf, pages + (size_t)p * h * w, (size_t)page_bytes);
        ok = TIFFSetDirectory(tif, (tdir_t)p) && TIFFWriteEncodedStrip(tif, 0, row_buf, page_bytes) == page_bytes &&
             TIFFFlush(tif);
    }
    free(row_buf);
    return ok;
}

int pty_tiff_write_float(const char *path, const float *pages, int n_pages, int h, int w, double pixel_size_m,
                         const char *description)
{
    PTY_CHECK(path && *path, PTY_ERR_ARG, "TIFF output needs a file name");
    PTY_CHECK(pages && n_pages >= 1 && h >= 1 && w >= 1, PTY_ERR_ARG,
              "'%s': cannot write %d page(s) of %dx%d pixels", path, n_pages, h, w);
    PTY_CHECK(n_pages <= 65535, PTY_ERR_ARG, "'%s': %d pages exceed the TIFF page-number limit 65535", path,
              n_pages);
    const size_t count = (size_t)n_pages * h * w;
    char tmp[4300];
    PTY_TRY(pty_stage(path, tmp, sizeof tmp));
    char *desc = imagej_description(pages, count, n_pages, pixel_size_m, description);
    if (!desc) return pty_stage_close(tmp, pty_error_set(PTY_ERR_NOMEM, "'%s': cannot allocate the TIFF description", path));
    handlers saved = quiet_libtiff();
    /* classic TIFF up to ~4 GB (ImageJ cannot read BigTIFF), BigTIFF beyond */
    errno = 0;
    TIFF *tif = TIFFOpen(tmp, count * sizeof(float) > 4000000000u ? "w8" : "w");
    int rc = PTY_OK;
    if (!tif) {
        int err = errno;
        rc = pty_error_set(PTY_ERR_IO, "cannot create TIFF '%s' (%s)", path,
                           err ? strerror(err) : tiff_last_error);
    } else {
        errno = 0;
        int ok = write_pages(tif, pages, n_pages, h, w, pixel_size_m, desc);
        const int err = errno;
        TIFFClose(tif);
        if (!ok)
            rc = pty_error_set(PTY_ERR_IO, "cannot write TIFF '%s' (%s)", path,
                               err == EFBIG ? "file too large for this process's limit or the file system"
                               : err == ENOSPC ? "no space left on the device"
                               : tiff_last_error[0] ? tiff_last_error : "disk full?");
    }
    restore_libtiff(saved);
    free(desc);
    return pty_stage_close(tmp, rc);
}

/* Convert one row of raw samples to float. */
static void convert_row(const unsigned char *src, float *dst, int w, int bits, int format)
{
    for (int c = 0; c < w; c++) {
        double v;
        if (format == SAMPLEFORMAT_IEEEFP) {
            if (bits == 32) {
                float f;
                memcpy(&f, src + (size_t)c * 4, 4);
                v = f;
            } else {
                double d;
                memcpy(&d, src + (size_t)c * 8, 8);
                v = d;
            }
        } else if (format == SAMPLEFORMAT_INT) {
            if (bits == 8) v = ((const int8_t *)src)[c];
            else if (bits == 16) {
                int16_t x;
                memcpy(&x, src + (size_t)c * 2, 2);
                v = x;
            } else {
                int32_t x;
                memcpy(&x, src + (size_t)c * 4, 4);
                v = x;
            }
        } else {
            if (bits == 8) v = src[c];
            else if (bits == 16) {
                uint16_t x;
                memcpy(&x, src + (size_t)c * 2, 2);
                v = x;
            } else {
                uint32_t x;
                memcpy(&x, src + (size_t)c * 4, 4);
                v = x;
            }
        }
        dst[c] = (float)v;
    }
}

/* One-sample grayscale of 8/16/32-bit integers or 32/64-bit floats, stripped or tiled. */
static int read_raw_gray(TIFF *tif, float *out, int h, int w, int bits, int format)
{
    const size_t bps = (size_t)bits / 8;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0) return 0;
        unsigned char *tile = malloc((size_t)TIFFTileSize(tif));
        float *row = malloc(tw * sizeof *row);
        int ok = tile && row;
        for (uint32_t y = 0; ok && y < (uint32_t)h; y += th)
            for (uint32_t x = 0; ok && x < (uint32_t)w; x += tw) {
                if (TIFFReadTile(tif, tile, x, y, 0, 0) < 0) {
                    ok = 0;
                    break;
                }
                uint32_t nx = (uint32_t)w - x < tw ? (uint32_t)w - x : tw;
                for (uint32_t r = 0; r < th && y + r < (uint32_t)h; r++) {
                    convert_row(tile + (size_t)r * tw * bps, row, (int)nx, bits, format);
                    memcpy(out + (size_t)(y + r) * w + x, row, nx * sizeof *row);
                }
            }
        free(tile);
        free(row);
        return ok;
    }
    unsigned char *line = malloc((size_t)TIFFScanlineSize(tif));
    int ok = line != NULL;
    for (int r = 0; ok && r < h; r++) {
        ok = TIFFReadScanline(tif, line, (uint32_t)r, 0) >= 0;
        if (ok) convert_row(line, out + (size_t)r * w, w, bits, format);
    }
    free(line);
    return ok;
}

/* Anything else libtiff can decode to RGBA (RGB, palette, YCbCr, 1-4 bit): luminance. */
static int read_rgba_luminance(TIFF *tif, float *out, int h, int w)
{
    uint32_t *rgba = _TIFFmalloc((tmsize_t)((size_t)h * w * sizeof(uint32_t)));
    if (!rgba) return 0;
    int ok = TIFFReadRGBAImageOriented(tif, (uint32_t)w, (uint32_t)h, rgba, ORIENTATION_TOPLEFT, 0);
    if (ok)
        for (size_t i = 0; i < (size_t)h * w; i++)
            out[i] = (float)(0.299 * TIFFGetR(rgba[i]) + 0.587 * TIFFGetG(rgba[i]) + 0.114 * TIFFGetB(rgba[i]));
    _TIFFfree(rgba);
    return ok;
}

int pty_tiff_read_gray(const char *path, float **out, int *h, int *w)
{
    *out = NULL;
    PTY_CHECK(path && *path, PTY_ERR_ARG, "TIFF input needs a file name");
    FILE *probe = fopen(path, "rb");
    PTY_CHECK(probe, PTY_ERR_IO, "cannot open '%s' (%s)", path, strerror(errno));
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 4, probe);
    fclose(probe);
    int is_tiff = got == 4 && ((magic[0] == 'I' && magic[1] == 'I') || (magic[0] == 'M' && magic[1] == 'M'));
    PTY_CHECK(is_tiff, PTY_ERR_IO, "'%s' is not a TIFF file", path);

    handlers saved = quiet_libtiff();
    TIFF *tif = TIFFOpen(path, "r");
    int rc = PTY_OK;
    float *img = NULL;
    if (!tif) {
        rc = pty_error_set(PTY_ERR_IO, "'%s' is not a readable TIFF file (%s)", path, tiff_last_error);
        goto done;
    }
    uint32_t width = 0, height = 0;
    uint16_t bits = 1, spp = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    if (width == 0 || height == 0 || width > 65536 || height > 65536) {
        rc = pty_error_set(PTY_ERR_DATA, "'%s': unsupported image size %ux%u", path, (unsigned)width,
                           (unsigned)height);
        goto done;
    }
    img = malloc((size_t)width * height * sizeof *img);
    if (!img) {
        rc = pty_error_set(PTY_ERR_NOMEM, "'%s': cannot allocate %ux%u pixels", path, (unsigned)width,
                           (unsigned)height);
        goto done;
    }
    int gray = spp == 1 && (photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE);
    int raw_ok = gray && ((format == SAMPLEFORMAT_IEEEFP && (bits == 32 || bits == 64)) ||
                          ((format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_INT) &&
                           (bits == 8 || bits == 16 || bits == 32)));
    int ok;
    if (raw_ok) {
        ok = read_raw_gray(tif, img, (int)height, (int)width, bits, format);
        if (ok && photometric == PHOTOMETRIC_MINISWHITE && format == SAMPLEFORMAT_UINT) {
            double top = ldexp(1.0, bits) - 1.0;
            for (size_t i = 0; i < (size_t)width * height; i++) img[i] = (float)(top - img[i]);
        }
    } else if (format == SAMPLEFORMAT_IEEEFP || bits > 16) {
        rc = pty_error_set(PTY_ERR_DATA, "'%s': cannot convert %u samples of %u-bit %s to grayscale", path,
                           (unsigned)spp, (unsigned)bits, format == SAMPLEFORMAT_IEEEFP ? "float" : "integer");
        goto done;
    } else {
        ok = read_rgba_luminance(tif, img, (int)height, (int)width);
    }
    if (!ok) {
        rc = pty_error_set(PTY_ERR_IO, "cannot read the pixels of '%s' (%s)", path,
                           tiff_last_error[0] ? tiff_last_error : "corrupt file?");
        goto done;
    }
    *h = (int)height;
    *w = (int)width;
    *out = img;
    img = NULL;
done:
    free(img);
    if (tif) TIFFClose(tif);
    restore_libtiff(saved);
    return rc;
}
