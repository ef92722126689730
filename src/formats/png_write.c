/* png_write.c - the smallest correct PNG: signature, IHDR, one IDAT of
 * zlib-compressed rows (filter 0), IEND; CRCs from zlib. */
#include "png_write.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pty_error.h"
#include "staging.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char head[8], tail[4];
    put32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, head + 4, 4);
    if (n) crc = crc32(crc, data, (uInt)n);
    put32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (n == 0 || fwrite(data, 1, n, f) == n) && fwrite(tail, 1, 4, f) == 4;
}

/* The percentile range of the finite values (for lo >= hi). */
static int auto_range(const float *img, size_t n, float *lo, float *hi)
{
    float *v = malloc(n * sizeof *v);
    PTY_CHECK(v, PTY_ERR_NOMEM, "PNG: cannot allocate %zu values", n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(img[i])) v[k++] = img[i];
    *lo = 0.0f;
    *hi = 1.0f;
    if (k > 0) {
        qsort(v, k, sizeof *v, cmp_float);
        *lo = v[(size_t)(0.005 * (k - 1))];
        *hi = v[(size_t)(0.995 * (k - 1))];
        if (!(*hi > *lo)) *hi = *lo + 1.0f;
    }
    free(v);
    return PTY_OK;
}

int pty_png_write_gray(const char *path, const float *img, int h, int w, float lo, float hi)
{
    PTY_CHECK(path && img && h >= 1 && w >= 1 && (double)h * (w + 1) < 2e9, PTY_ERR_ARG,
              "PNG: bad image %d x %d", h, w);
    const size_t n = (size_t)h * w, raw_len = (size_t)h * (w + 1);
    if (!(lo < hi)) PTY_TRY(auto_range(img, n, &lo, &hi));
    unsigned char *raw = malloc(raw_len);
    uLongf z_len = compressBound((uLong)raw_len);
    unsigned char *z = malloc(z_len);
    if (!raw || !z) {
        free(raw);
        free(z);
        return pty_error_set(PTY_ERR_NOMEM, "PNG: cannot allocate buffers for %d x %d", h, w);
    }
    for (int y = 0; y < h; y++) {
        unsigned char *row = raw + (size_t)y * (w + 1);
        row[0] = 0; /* filter: none */
        for (int x = 0; x < w; x++) {
            float v = img[(size_t)y * w + x];
            float t = isfinite(v) ? (v - lo) / (hi - lo) : 0.0f;
            row[1 + x] = (unsigned char)lrintf(255.0f * (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t));
        }
    }
    int rc = compress2(z, &z_len, raw, (uLong)raw_len, 6) == Z_OK
                 ? PTY_OK
                 : pty_error_set(PTY_ERR_NOMEM, "PNG: zlib could not compress '%s'", path);
    char tmp[4300];
    if (rc == PTY_OK) rc = pty_stage(path, tmp, sizeof tmp);
    FILE *f = rc == PTY_OK ? fopen(tmp, "wb") : NULL;
    if (rc == PTY_OK && !f) rc = pty_stage_close(tmp, pty_error_set(PTY_ERR_IO, "cannot create '%s'", tmp));
    if (f) {
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        unsigned char ihdr[13];
        put32(ihdr, (uint32_t)w);
        put32(ihdr + 4, (uint32_t)h);
        ihdr[8] = 8;  /* bit depth */
        ihdr[9] = 0;  /* grayscale */
        ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
        int ok = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) && chunk(f, "IDAT", z, z_len) &&
                 chunk(f, "IEND", NULL, 0);
        const int err = errno;
        if (fclose(f) != 0) ok = 0;
        if (!ok) rc = pty_error_set(PTY_ERR_IO, "cannot write '%s' (%s)", path, err ? strerror(err) : "disk full?");
        rc = pty_stage_close(tmp, rc);
    }
    free(raw);
    free(z);
    return rc;
}
