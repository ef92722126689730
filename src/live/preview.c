/* preview.c - the files a followed reconstruction refreshes for a person to watch. */
#include "preview.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "png_write.h"
#include "pty_error.h"
#include "staging.h"
#include "tiff_io.h"

#define PLOT_W 640
#define PLOT_H 300
#define PLOT_POINTS 1500 /* the curve is thinned to about this many points */

/* A growing text buffer. */
typedef struct text {
    char *s;
    size_t len, cap;
    int failed;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* dir/name, staged (staging.h): in place at once, or with the preview's commit. */
static int write_text(const char *dir, const char *name, text *t)
{
    char path[4096], tmp[4300];
    int rc = PTY_OK;
    if (t->failed || !t->s) rc = pty_error_set(PTY_ERR_NOMEM, "cannot compose the preview '%s'", name);
    if (rc == PTY_OK && snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        rc = pty_error_set(PTY_ERR_ARG, "preview path too long: '%s'", dir);
    if (rc == PTY_OK && (rc = pty_stage(path, tmp, sizeof tmp)) == PTY_OK) {
        FILE *f = fopen(tmp, "w");
        if (!f) {
            rc = pty_error_set(PTY_ERR_IO, "cannot create '%s' (%s)", tmp, strerror(errno));
        } else {
            const int ok = fwrite(t->s, 1, t->len, f) == t->len;
            if (fclose(f) != 0 || !ok) rc = pty_error_set(PTY_ERR_IO, "cannot write '%s' (disk full?)", path);
        }
        rc = pty_stage_close(tmp, rc);
    }
    free(t->s);
    memset(t, 0, sizeof *t);
    return rc;
}

/* The page: no server, no library.  Browsers refuse fetch() on file://
 * but run scripts, so the numbers arrive as status.js, loaded again every
 * refresh; the images reload with the preview number appended, which a
 * browser's file loader ignores but its cache does not. */
static const char page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>ptycho live</title>\n<style>\n"
    "body{background:#111;color:#ddd;font:15px/1.4 system-ui,sans-serif;margin:16px}\n"
    "h1{font-size:19px;margin:0 0 6px}#state{font-weight:bold}\n"
    ".row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
    "figure{margin:0}figcaption{color:#999;font-size:13px}\n"
    "img.obj{width:420px;image-rendering:pixelated;background:#222}\n"
    "img.probe{height:140px;image-rendering:pixelated;background:#222}\n"
    "img.curve{width:640px;background:#fff}\n"
    "table{border-collapse:collapse}td{padding:1px 14px 1px 0}td.v{font-variant-numeric:tabular-nums}\n"
    "</style></head><body>\n"
    "<h1>ptycho live: <span id=\"input\"></span></h1>\n"
    "<p>state <span id=\"state\">waiting for the first preview</span> &middot; preview <span id=\"preview\">-</span>"
    " &middot; updated <span id=\"age\">-</span></p>\n"
    "<div class=\"row\">\n"
    "<figure><img class=\"obj\" id=\"phase\" alt=\"object phase\"><figcaption>object phase</figcaption></figure>\n"
    "<figure><img class=\"obj\" id=\"magnitude\" alt=\"object magnitude\"><figcaption>object magnitude</figcaption></figure>\n"
    "</div>\n<div class=\"row\">\n"
    "<figure><img class=\"curve\" id=\"error\" alt=\"Fourier error\"><figcaption>Fourier error per iteration "
    "(grey lines: frames arrived)</figcaption></figure>\n"
    "<div><table id=\"numbers\"></table>\n"
    "<figure><img class=\"probe\" id=\"probe\" alt=\"probe modes\"><figcaption>probe modes |P<sub>k</sub>|, "
    "strongest first</figcaption></figure></div>\n"
    "</div>\n<script>\n"
    "var REFRESH_MS = %d, shown = 0, loadedAt = 0;\n"
    "var files = {phase: 'object_phase.png', magnitude: 'object_magnitude.png', probe: 'probe_modes.png', error: 'error.svg'};\n"
    "function fmt(v, d) { return typeof v === 'number' ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(3) : v.toFixed(d)) : String(v); }\n"
    "function show(s) {\n"
    "  document.getElementById('input').textContent = s.input;\n"
    "  document.getElementById('state').textContent = s.state;\n"
    "  document.getElementById('preview').textContent = s.preview;\n"
    "  loadedAt = Date.now();\n"
    "  var rows = [['iteration', s.iteration, 0], ['Fourier error', s.error, 4],\n"
    "    ['frames used / read / in file', s.frames_used + ' / ' + s.frames_seen + ' / ' + s.frames_available], ['frames planned', s.frames_planned || 'unknown'],\n"
    "    ['skipped: missing, repeated', s.frames_missing + ', ' + s.frames_duplicate], ['frame-updates/s', s.frame_updates_per_s, 0],\n"
    "    ['lag behind acquisition (s)', s.lag_s, 2], ['elapsed (s)', s.elapsed_s, 1]];\n"
    "  var t = document.getElementById('numbers'); t.innerHTML = '';\n"
    "  rows.forEach(function (r) { var tr = t.insertRow(); tr.insertCell().textContent = r[0];\n"
    "    var c = tr.insertCell(); c.className = 'v'; c.textContent = r.length > 2 ? fmt(r[1], r[2]) : r[1]; });\n"
    "  if (s.preview !== shown) {\n"
    "    shown = s.preview;\n"
    "    for (var id in files) { var im = document.getElementById(id);\n"
    "      im.onload = function () { this.setAttribute('data-width', this.naturalWidth); };\n"
    "      im.src = files[id] + '?v=' + s.preview; }\n"
    "  }\n"
    "  document.body.setAttribute('data-preview', s.preview);\n"
    "}\n"
    "function load() {\n"
    "  var el = document.createElement('script');\n"
    "  el.src = 'status.js?t=' + Date.now();\n"
    "  el.onload = function () { el.remove(); if (window.ptychoStatus) show(window.ptychoStatus); again(); };\n"
    "  el.onerror = function () { el.remove(); again(); };\n"
    "  document.head.appendChild(el);\n"
    "}\n"
    "function again() {\n"
    "  var s = window.ptychoStatus;\n"
    "  if (!s || (s.state !== 'done' && s.state !== 'stalled')) setTimeout(load, REFRESH_MS);\n"
    "}\n"
    "setInterval(function () { if (loadedAt) document.getElementById('age').textContent =\n"
    "  Math.round((Date.now() - loadedAt) / 1000) + ' s ago'; }, 1000);\n"
    "load();\n"
    "</script>\n</body></html>\n";

int pty_preview_page(const char *dir, double refresh_s)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return pty_error_set(PTY_ERR_IO, "cannot create the preview directory '%s' (%s)", dir, strerror(errno));
    text t = {0};
    int ms = (int)lround(refresh_s * 1000.0);
    put(&t, page, ms < 200 ? 200 : ms);
    return write_text(dir, "index.html", &t);
}

static void status_json(text *t, const pty_live_status *s)
{
    put(t, "{\"state\": \"%s\", \"input\": \"", s->state);
    for (const char *c = s->input ? s->input : ""; *c; c++) {
        if (*c == '"' || *c == '\\') put(t, "\\%c", *c);
        else if ((unsigned char)*c < 0x20) put(t, "\\u%04x", (unsigned char)*c);
        else put(t, "%c", *c);
    }
    put(t, "\", \"preview\": %d, \"iteration\": %d, \"error\": %.6g, \"frames_available\": %lld, "
           "\"frames_seen\": %lld, \"frames_used\": %d, \"frames_missing\": %d, \"frames_duplicate\": %d, "
           "\"frames_planned\": %lld, \"started_unix\": %.3f, \"elapsed_s\": %.3f, \"frame_updates_per_s\": %.1f, "
           "\"lag_s\": %.3f}",
        s->preview, s->iteration, s->error, s->available, s->seen, s->used, s->missing, s->duplicate, s->planned,
        s->started_unix, s->elapsed_s, s->frame_updates_per_s, s->lag_s);
}

/* The error curve on a log scale with decade lines and labels. */
static void error_svg(text *t, const double *e, int n, const int *arrivals, int n_arrivals)
{
    const int l = 60, r = 12, top = 12, bottom = 34, w = PLOT_W - l - r, h = PLOT_H - top - bottom;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (e[i] > 0 && isfinite(e[i])) {
            lo = fmin(lo, e[i]);
            hi = fmax(hi, e[i]);
        }
    if (!(lo <= hi)) lo = 1e-3, hi = 1.0;
    double d0 = floor(log10(lo)), d1 = ceil(log10(hi));
    if (d1 <= d0) d1 = d0 + 1;
    const int xmax = n > 1 ? n - 1 : 1;
    put(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
           "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", PLOT_W, PLOT_H);
    for (int k = 0; k < n_arrivals; k++)
        put(t, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", l + (double)w * arrivals[k] / xmax,
            top, l + (double)w * arrivals[k] / xmax, top + h);
    for (double d = d0; d <= d1; d++) {
        const double y = top + h * (d1 - d) / (d1 - d0);
        put(t, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"3,3\"/>"
               "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n", l, y, l + w, y, l - 6, y + 4, (int)d);
    }
    put(t, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", l, top, w, h);
    put(t, "<text x=\"%d\" y=\"%d\">0</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>"
           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">iteration</text>\n", l, top + h + 16, l + w, top + h + 16, n,
        l + w / 2, top + h + 30);
    put(t, "<polyline fill=\"none\" stroke=\"#c00\" stroke-width=\"2\" points=\"");
    const int stride = n > PLOT_POINTS ? (n + PLOT_POINTS - 1) / PLOT_POINTS : 1;
    for (int i = 0; i < n; i += stride) {
        if (!(e[i] > 0 && isfinite(e[i]))) continue;
        put(t, "%.1f,%.1f ", l + (double)w * i / xmax, top + h * (d1 - log10(e[i])) / (d1 - d0));
    }
    put(t, "\"/>\n</svg>\n");
}

/* The modes side by side, each |P_k| on its own 0..max scale, 2 px apart. */
static int probe_png(const char *path, const pty_cf *probe, int k, int m)
{
    const int gap = 2, w = k * m + (k - 1) * gap;
    float *img = malloc((size_t)w * m * sizeof *img);
    PTY_CHECK(img, PTY_ERR_NOMEM, "cannot allocate the probe preview");
    for (size_t i = 0; i < (size_t)w * m; i++) img[i] = 1.0f;
    for (int q = 0; q < k; q++) {
        const pty_cf *mode = probe + (size_t)q * m * m;
        float mx = 0.0f;
        for (size_t i = 0; i < (size_t)m * m; i++) mx = fmaxf(mx, sqrtf(pty_cabs2(mode[i])));
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++)
                img[(size_t)y * w + q * (m + gap) + x] = mx > 0 ? sqrtf(pty_cabs2(mode[(size_t)y * m + x])) / mx : 0.0f;
    }
    int rc = pty_png_write_gray(path, img, m, w, 0.0f, 1.0f);
    free(img);
    return rc;
}

int pty_preview_write(const char *dir, const pty_preview *pv)
{
    const size_t nobj = (size_t)pv->obj_h * pv->obj_w;
    float *buf = malloc(nobj * sizeof *buf);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate the %dx%d preview", pv->obj_h, pv->obj_w);
    char path[4096];
    int rc = PTY_OK;
    for (int part = 0; part < 2 && rc == PTY_OK; part++) {
        const char *name = part ? "object_magnitude" : "object_phase";
        for (size_t i = 0; i < nobj; i++)
            buf[i] = part ? sqrtf(pty_cabs2(pv->object[i])) : atan2f(pv->object[i].im, pv->object[i].re);
        snprintf(path, sizeof path, "%s/%s.png", dir, name);
        rc = pty_png_write_gray(path, buf, pv->obj_h, pv->obj_w, 0.0f, 0.0f);
        snprintf(path, sizeof path, "%s/%s.tif", dir, name);
        if (rc == PTY_OK)
            rc = pty_tiff_write_float(path, buf, 1, pv->obj_h, pv->obj_w, pv->pixel_size,
                                      part ? "ptycho live preview: object magnitude" : "ptycho live preview: object phase (rad)");
    }
    free(buf);
    snprintf(path, sizeof path, "%s/probe_modes.png", dir);
    if (rc == PTY_OK) rc = probe_png(path, pv->probe, pv->n_modes, pv->m);
    text t = {0};
    if (rc == PTY_OK) {
        error_svg(&t, pv->errors, pv->n_errors, pv->arrivals, pv->n_arrivals);
        rc = write_text(dir, "error.svg", &t);
    }
    if (rc == PTY_OK) {
        status_json(&t, pv->status);
        put(&t, "\n");
        rc = write_text(dir, "status.json", &t);
    }
    /* last: the page moves to the new images only once they are all in place */
    if (rc == PTY_OK) {
        put(&t, "window.ptychoStatus = ");
        status_json(&t, pv->status);
        put(&t, ";\n");
        rc = write_text(dir, "status.js", &t);
    }
    free(t.s);
    /* the set takes its place together (inside a command's session) */
    return rc == PTY_OK ? pty_stage_commit() : rc;
}
