/* merge.c - pairwise merge of partial objects: register B on A over their
 * overlap, remove B's translation, phase ramp and complex factor, blend
 * with illumination weights (DESIGN.md §3 "Asynchronous").
 *
 * The overlap is the window of an aligner (align.h) whose moving image is
 * B and whose target is A, so B is resampled by a Fourier shift of a
 * mirror-extended window and its content never wraps around its box.  One
 * taper (both weights and a Tukey window) weights A and B alike.
 * Registering tapered images is biased toward zero shift, because the taper
 * does not move with B's content (by up to half the shift on a 40 px
 * overlap), so a few registration rounds, each after shifting B by the
 * estimate so far, only bring B close; Gauss-Newton on the tapered misfit
 * sum m |A - g e^{ik.r} B(r + s)|^2, whose minimum is unbiased, finishes.
 * The fit sees A and B smoothed by [1 2 1]/4 (pty_align_images.smooth). */
#include "merge.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "pty_error.h"
#include "pty_log.h"

static const double pi = 3.14159265358979323846;

/* A pixel is well seen by a partial when its weight is at least this
 * fraction of the partial's maximum: below it the reconstruction is mostly
 * the initial guess and says little about the object. */
#define MERGE_SEEN 0.15
/* Fewer well-seen overlap pixels than this cannot fix a shift or factor. */
#define MERGE_MIN_OVERLAP 64
/* Weight fraction above which a pixel counts fully in the registration taper. */
#define MERGE_TRUST 0.5
/* Tukey taper at the overlap rectangle's edges, at most this many px per side. */
#define MERGE_TAPER 16
/* Largest side of the overlap window the registration and fit use. */
#define MERGE_FIT_MAX 256

/* Registration rounds before Gauss-Newton: each leaves up to half the shift. */
#define MERGE_START_ROUNDS 3
#define MERGE_GN_ITERATIONS 20
/* Gauss-Newton stops below this step (px, and rad of ramp across the overlap). */
#define MERGE_GN_TOLERANCE 1e-4
#define MERGE_MAX_PIXELS 1e9

void pty_merge_options_default(pty_merge_options *o)
{
    if (!o) return;
    o->register_shift = 1;
    o->normalise = 1;
    o->fit_ramp = 0;
    o->upsample = 20;
    o->max_error = 0.5;
    o->max_shift = 8.0;
    o->warn_error = 0.05;
}

int pty_partial_alloc(pty_partial *p, int h, int w, int off_r, int off_c)
{
    PTY_CHECK(p != NULL, PTY_ERR_ARG, "pty_partial_alloc: NULL partial");
    memset(p, 0, sizeof *p);
    PTY_CHECK(h >= 1 && w >= 1 && (double)h * w <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "partial object: size %d x %d must be positive (and at most 1e9 pixels)", h, w);
    size_t n = (size_t)h * w;
    p->object = malloc(sizeof *p->object * n);
    p->weight = calloc(n, sizeof *p->weight);
    if (!p->object || !p->weight) {
        pty_partial_free(p);
        return pty_error_set(PTY_ERR_NOMEM, "partial object: cannot allocate %d x %d pixels", h, w);
    }
    for (size_t i = 0; i < n; i++) p->object[i] = pty_cf_make(1.0f, 0.0f);
    p->h = h;
    p->w = w;
    p->offset[0] = off_r;
    p->offset[1] = off_c;
    return PTY_OK;
}

void pty_partial_free(pty_partial *p)
{
    if (!p) return;
    free(p->object);
    free(p->weight);
    memset(p, 0, sizeof *p);
}

/* Sizes, finite objects, finite non-negative weights; *wmax = max weight. */
static int check_partial(const pty_partial *p, const char *name, double *wmax)
{
    PTY_CHECK(p->object && p->weight, PTY_ERR_ARG, "merge: partial %s has no %s array", name,
              p->object ? "weight" : "object");
    PTY_CHECK(p->h >= 1 && p->w >= 1 && (double)p->h * p->w <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "merge: partial %s is %d x %d (must be positive, at most 1e9 pixels)", name, p->h, p->w);
    size_t n = (size_t)p->h * p->w;
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        float v = p->weight[i];
        PTY_CHECK(isfinite(v) && v >= 0.0f, PTY_ERR_DATA,
                  "merge: partial %s has weight %g at pixel (%zu, %zu); weights must be finite and >= 0", name,
                  (double)v, i / (size_t)p->w, i % (size_t)p->w);
        if (v > m) m = v;
        PTY_CHECK(isfinite(p->object[i].re) && isfinite(p->object[i].im), PTY_ERR_DATA,
                  "merge: partial %s has a non-finite object value at pixel (%zu, %zu)", name, i / (size_t)p->w,
                  i % (size_t)p->w);
    }
    *wmax = m;
    return PTY_OK;
}

/* Hann-tapered edge of a Tukey window over n samples. */
static double tukey(int i, int n)
{
    int taper = n / 4 < MERGE_TAPER ? n / 4 : MERGE_TAPER;
    int d = i < n - 1 - i ? i : n - 1 - i;
    if (d >= taper) return 1.0;
    return 0.5 * (1.0 - cos(pi * (d + 0.5) / taper));
}

/* The overlap rectangle (global rows R0.., cols C0..) and its buffers. */
typedef struct merge_ctx {
    const pty_partial *a, *b;
    double amax, bmax;
    long long R0, C0;
    int oh, ow;
    double centre[2]; /* global (row, col) of the overlap's centre: origin of the ramp */
    float *mask;      /* oh x ow taper, the same for both images */
    pty_cf *af;       /* A on the overlap */
    pty_aligner *al;  /* window: the overlap; moving: B; target: A; weight: the taper; smoothed */
} merge_ctx;

/* Taper and A on the overlap; returns the well-seen pixel count (both
 * weights >= MERGE_SEEN of their maxima, B unshifted). */
static long build_mask(merge_ctx *x)
{
    const pty_partial *a = x->a, *b = x->b;
    long seen = 0;
    for (int i = 0; i < x->oh; i++) {
        double ti = tukey(i, x->oh);
        size_t ra = (size_t)(x->R0 - a->offset[0] + i), rb = (size_t)(x->R0 - b->offset[0] + i);
        for (int j = 0; j < x->ow; j++) {
            size_t ca = (size_t)(x->C0 - a->offset[1] + j), cb = (size_t)(x->C0 - b->offset[1] + j);
            double wa = x->amax > 0.0 ? a->weight[ra * a->w + ca] / x->amax : 0.0;
            double wb = x->bmax > 0.0 ? b->weight[rb * b->w + cb] / x->bmax : 0.0;
            if (wa >= MERGE_SEEN && wb >= MERGE_SEEN) seen++;
            double m = ti * tukey(j, x->ow) * fmin(1.0, wa / MERGE_TRUST) * fmin(1.0, wb / MERGE_TRUST);
            x->mask[(size_t)i * x->ow + j] = (float)m;
            x->af[(size_t)i * x->ow + j] = a->object[ra * a->w + ca];
        }
    }
    return seen;
}

/* Shift s (and with fit_ramp the ramp k) of B relative to A: a few rounds of
 * registration and ramp estimates, each made after B has been corrected by
 * the others, bring them close (the fixed taper biases each registration
 * toward 0 by up to half the remaining shift); Gauss-Newton finishes.  The
 * reported error is that of a last registration of the aligned images.
 * *reg_error = NAN when no registration ran; *ok = 0 when registration was
 * impossible (an image without power on the overlap). */
static int find_shift_and_ramp(merge_ctx *x, const pty_merge_options *o, double s[2], double k[2],
                               double *reg_error, int *ok)
{
    /* shifts far beyond max_shift will be refused: do not chase them */
    double limit = 2.0 * o->max_shift + 2.0;
    pty_align_fit_options fit = {.fit_shift = o->register_shift, .fit_ramp = o->fit_ramp,
                                 .max_iterations = MERGE_GN_ITERATIONS, .tolerance = MERGE_GN_TOLERANCE,
                                 .shift_min = {-limit, -limit}, .shift_max = {limit, limit}};
    s[0] = s[1] = k[0] = k[1] = 0.0;
    *reg_error = NAN;
    *ok = 1;
    pty_registration reg;
    for (int round = 0; round < MERGE_START_ROUNDS; round++) {
        if (o->register_shift) {
            int rc = pty_aligner_register(x->al, s, k, &reg);
            if (rc == PTY_ERR_DATA) {
                pty_warn("merge: cannot register the overlap: %s", pty_error_message());
                pty_error_clear();
                *ok = 0;
                return PTY_OK;
            }
            PTY_TRY(rc);
            s[0] += reg.shift[0];
            s[1] += reg.shift[1];
            *reg_error = reg.error;
            if (!pty_align_admissible(&fit, s)) return PTY_OK;
        }
        if (o->fit_ramp) {
            double dk[2];
            int rc = pty_aligner_ramp(x->al, s, k, dk);
            if (rc == PTY_ERR_DATA) { /* A conj(B) has no power: nothing to fit */
                pty_error_clear();
            } else {
                PTY_TRY(rc);
                k[0] += dk[0], k[1] += dk[1];
            }
        }
    }
    pty_align_state st = {.shift = {s[0], s[1]}, .ramp = {k[0], k[1]}};
    PTY_TRY(pty_aligner_fit(x->al, &fit, &st));
    s[0] = st.shift[0], s[1] = st.shift[1], k[0] = st.ramp[0], k[1] = st.ramp[1];
    if (o->register_shift) {
        PTY_TRY(pty_aligner_register(x->al, s, k, &reg));
        *reg_error = reg.error;
        pty_log(PTY_LOG_DEBUG,
                "merge: shift (%.4f, %.4f) px, ramp (%.2e, %.2e) rad/px, registration error %.2e, "
                "residual registration shift (%.4f, %.4f) px",
                s[0], s[1], k[0], k[1], reg.error, reg.shift[0], reg.shift[1]);
    }
    return PTY_OK;
}

/* B' = exp(i k.(r - centre)) B(r + s) and its weight, moved with the
 * content, on B's box (k = 0 unless `ramped`).  By the short-kernel shift
 * (align.h): its cost is linear in B's box, where a Fourier shift of the
 * mirrored box cost FFTs of four times it, twice. */
static int correct_b(const merge_ctx *x, const double s[2], const double k[2], int ramped, pty_cf *bobj, float *bw)
{
    const pty_partial *b = x->b;
    size_t nb = (size_t)b->h * b->w;
    int moved = s[0] != 0.0 || s[1] != 0.0;
    if (!moved && !ramped) {
        memcpy(bobj, b->object, sizeof *bobj * nb);
        memcpy(bw, b->weight, sizeof *bw * nb);
        return PTY_OK;
    }
    const double centre[2] = {x->centre[0] - b->offset[0], x->centre[1] - b->offset[1]};
    PTY_TRY(pty_shift_image_short(b->object, b->h, b->w, s, ramped ? k : NULL, centre, bobj));
    if (!moved) {
        memcpy(bw, b->weight, sizeof *bw * nb);
        return PTY_OK;
    }
    /* the weight says where B's content is reliable, so it moves with the content */
    PTY_TRY(pty_shift_real_short(b->weight, b->h, b->w, s, bw));
    /* the kernel's side lobes dip slightly below 0 next to unseen pixels */
    for (size_t i = 0; i < nb; i++) bw[i] = bw[i] > 0.0f ? bw[i] : 0.0f;
    return PTY_OK;
}

/* 1 when global (r, c) lies in p's box. */
static int covers(const pty_partial *p, long long r, long long c)
{
    return r >= p->offset[0] && r < (long long)p->offset[0] + p->h && c >= p->offset[1] &&
           c < (long long)p->offset[1] + p->w;
}

int pty_merge_options_check(const pty_merge_options *o)
{
    PTY_CHECK(o->upsample >= 1 && o->upsample <= 1000, PTY_ERR_ARG, "--stitch-upsample must be in [1, 1000] (got %d)",
              o->upsample);
    PTY_CHECK(o->max_error >= 0.0 && o->max_error <= 1.0, PTY_ERR_ARG,
              "--stitch-max-error must be in [0, 1] (got %g): registration errors lie in [0, 1]", o->max_error);
    PTY_CHECK(o->max_shift >= 0.0 && o->max_shift <= 1e4, PTY_ERR_ARG,
              "--stitch-max-shift must be in [0, 1e4] pixels (got %g)", o->max_shift);
    return PTY_OK;
}

int pty_merge_pair(const pty_partial *a, const pty_partial *b, const pty_merge_options *o, pty_partial *out,
                   pty_merge_report *rep)
{
    PTY_CHECK(a && b && out, PTY_ERR_ARG, "pty_merge_pair: NULL argument");
    PTY_CHECK(out != a && out != b, PTY_ERR_ARG, "pty_merge_pair: the output must be a new partial, not an input");
    const double t_start = pty_now_s();
    memset(out, 0, sizeof *out);
    pty_merge_options opt;
    pty_merge_options_default(&opt);
    if (o) opt = *o;
    PTY_TRY(pty_merge_options_check(&opt));
    merge_ctx x = {.a = a, .b = b};
    PTY_TRY(check_partial(a, "A", &x.amax));
    PTY_TRY(check_partial(b, "B", &x.bmax));

    long long ar1 = (long long)a->offset[0] + a->h, ac1 = (long long)a->offset[1] + a->w;
    long long br1 = (long long)b->offset[0] + b->h, bc1 = (long long)b->offset[1] + b->w;
    long long ur0 = a->offset[0] < b->offset[0] ? a->offset[0] : b->offset[0];
    long long uc0 = a->offset[1] < b->offset[1] ? a->offset[1] : b->offset[1];
    long long uh = (ar1 > br1 ? ar1 : br1) - ur0, uw = (ac1 > bc1 ? ac1 : bc1) - uc0;
    PTY_CHECK(uh <= INT_MAX && uw <= INT_MAX && (double)uh * (double)uw <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "merge: the union of A (%d x %d at %d, %d) and B (%d x %d at %d, %d) is %lld x %lld pixels, "
              "more than 1e9 (offsets in the wrong unit?)",
              a->h, a->w, a->offset[0], a->offset[1], b->h, b->w, b->offset[0], b->offset[1], uh, uw);

    x.R0 = a->offset[0] > b->offset[0] ? a->offset[0] : b->offset[0];
    x.C0 = a->offset[1] > b->offset[1] ? a->offset[1] : b->offset[1];
    long long oh = (ar1 < br1 ? ar1 : br1) - x.R0, ow = (ac1 < bc1 ? ac1 : bc1) - x.C0;
    int overlap = oh > 0 && ow > 0;
    x.oh = overlap ? (int)oh : 0;
    x.ow = overlap ? (int)ow : 0;
    /* Shift, ramp and factor are global, so a central window of the overlap
       determines them; fitting a whole 1000-pixel seam cost seconds a merge
       (several FFTs of twice the window per Gauss-Newton step). */
    if (x.oh > MERGE_FIT_MAX) x.R0 += (x.oh - MERGE_FIT_MAX) / 2, x.oh = MERGE_FIT_MAX;
    if (x.ow > MERGE_FIT_MAX) x.C0 += (x.ow - MERGE_FIT_MAX) / 2, x.ow = MERGE_FIT_MAX;
    x.centre[0] = (double)x.R0 + (x.oh - 1) / 2.0;
    x.centre[1] = (double)x.C0 + (x.ow - 1) / 2.0;

    pty_merge_report r = {.reg_error = NAN, .amplitude = 1.0};
    if (overlap) r.ramp_origin[0] = x.centre[0], r.ramp_origin[1] = x.centre[1];
    double s[2] = {0.0, 0.0}, k[2] = {0.0, 0.0}, g[2] = {1.0, 0.0};
    int rc = PTY_OK, correct = 0;
    size_t nb = (size_t)b->h * b->w;
    pty_cf *bobj = NULL;
    float *bw = NULL;

    if (overlap) {
        size_t n = (size_t)x.oh * x.ow;
        x.mask = malloc(sizeof *x.mask * n);
        x.af = malloc(sizeof *x.af * n);
        if (!x.mask || !x.af) {
            rc = pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate buffers for a %d x %d overlap", x.oh, x.ow);
            goto done;
        }
    }
    long seen = overlap ? build_mask(&x) : 0;
    int wanted = opt.register_shift || opt.normalise || opt.fit_ramp;
    if (wanted && seen < MERGE_MIN_OVERLAP) {
        pty_warn("merge: A (%d x %d at %d, %d) and B (%d x %d at %d, %d) share %ld well-seen pixels (< %d); "
                 "blending at the known offsets without registration or normalisation",
                 a->h, a->w, a->offset[0], a->offset[1], b->h, b->w, b->offset[0], b->offset[1], seen,
                 MERGE_MIN_OVERLAP);
    } else if (wanted) {
        correct = 1;
        if (opt.register_shift || opt.fit_ramp) {
            int ok;
            pty_align_images im = {.moving = b->object, .moving_h = b->h, .moving_w = b->w,
                                   .corner = {x.R0 - b->offset[0], x.C0 - b->offset[1]}, .target = x.af,
                                   .weight = x.mask, .smooth = 1};
            if ((rc = pty_aligner_create(x.oh, x.ow, opt.upsample, &x.al)) != PTY_OK) goto done;
            if ((rc = pty_aligner_set_images(x.al, &im)) != PTY_OK) goto done;
            if ((rc = find_shift_and_ramp(&x, &opt, s, k, &r.reg_error, &ok)) != PTY_OK) goto done;
            if (opt.register_shift) {
                double len = hypot(s[0], s[1]);
                if (ok && r.reg_error <= opt.max_error && len <= opt.max_shift) {
                    r.accepted = 1;
                    if (r.reg_error > opt.warn_error) {
                        r.disagree = 1;
                        pty_warn("merge: B (at %d, %d) and A (at %d, %d) disagree: registration error %.3f, above "
                                 "%.3f (blocks that both converged give about 0.01); one of them has likely not "
                                 "converged: look at each block (--write-partials) and its error",
                                 b->offset[0], b->offset[1], a->offset[0], a->offset[1], r.reg_error,
                                 opt.warn_error);
                    }
                } else {
                    if (ok)
                        pty_warn("merge: registration of B (at %d, %d) on A (at %d, %d) refused: shift (%.2f, %.2f) "
                                 "px (limit %.2f), error %.3f (limit %.3f); merging at the known offsets without "
                                 "shift, ramp or phase/amplitude normalisation",
                                 b->offset[0], b->offset[1], a->offset[0], a->offset[1], s[0], s[1], opt.max_shift,
                                 r.reg_error, opt.max_error);
                    s[0] = s[1] = k[0] = k[1] = 0.0;
                    correct = 0;
                }
            }
        }
    }

    /* B' and its weight on B's box */
    bobj = malloc(sizeof *bobj * nb);
    bw = malloc(sizeof *bw * nb);
    if (!bobj || !bw) {
        rc = pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate a %d x %d copy of B", b->h, b->w);
        goto done;
    }
    if ((rc = correct_b(&x, s, k, correct && (k[0] != 0.0 || k[1] != 0.0), bobj, bw)) != PTY_OK) goto done;

    /* g from the well-seen overlap after the shift (the count is reported either way):
       phase arg sum w A conj(B'), amplitude sqrt(sum w |A|^2 / sum w |B'|^2).  The energy ratio treats A
       and B alike; the least-squares |g| = |sum w A conj(B')| / sum w |B'|^2 would shrink B by the
       noise and residual misfit in it. */
    double num_re = 0.0, num_im = 0.0, ea = 0.0, eb = 0.0;
    long count = 0;
    for (long long i = 0; i < x.oh; i++)
        for (long long j = 0; j < x.ow; j++) {
            size_t pa = (size_t)(x.R0 - a->offset[0] + i) * a->w + (size_t)(x.C0 - a->offset[1] + j);
            size_t pb = (size_t)(x.R0 - b->offset[0] + i) * b->w + (size_t)(x.C0 - b->offset[1] + j);
            double wa = x.amax > 0.0 ? a->weight[pa] / x.amax : 0.0, wb = x.bmax > 0.0 ? bw[pb] / x.bmax : 0.0;
            if (!(wa >= MERGE_SEEN && wb >= MERGE_SEEN)) continue;
            count++;
            pty_cf va = a->object[pa], vb = bobj[pb];
            double wt = wa * wb;
            num_re += wt * ((double)vb.re * va.re + (double)vb.im * va.im);
            num_im += wt * ((double)vb.re * va.im - (double)vb.im * va.re);
            ea += wt * ((double)va.re * va.re + (double)va.im * va.im);
            eb += wt * ((double)vb.re * vb.re + (double)vb.im * vb.im);
        }
    r.overlap_px = count;
    if (correct && opt.normalise) {
        double amp = eb > 0.0 ? sqrt(ea / eb) : 0.0, ph = atan2(num_im, num_re);
        if (count >= MERGE_MIN_OVERLAP && amp > 0.0 && isfinite(amp) && (num_re != 0.0 || num_im != 0.0)) {
            g[0] = amp * cos(ph), g[1] = amp * sin(ph);
            pty_cf gf = pty_cf_make((float)g[0], (float)g[1]);
            for (size_t i = 0; i < nb; i++) bobj[i] = pty_cmul(bobj[i], gf);
        } else {
            pty_warn("merge: A or B has no usable power on the %ld-pixel well-seen overlap; "
                     "B's phase and amplitude are left as they are", count);
        }
    }
    if (correct) {
        r.ramp[0] = k[0], r.ramp[1] = k[1];
        r.shift[0] = s[0], r.shift[1] = s[1];
    }
    r.phase = atan2(g[1], g[0]);
    r.amplitude = hypot(g[0], g[1]);

    if ((rc = pty_partial_alloc(out, (int)uh, (int)uw, (int)ur0, (int)uc0)) != PTY_OK) goto done;
    for (long long i = 0; i < uh; i++)
        for (long long j = 0; j < uw; j++) {
            long long gr = ur0 + i, gc = uc0 + j;
            int in_a = covers(a, gr, gc), in_b = covers(b, gr, gc);
            size_t pa = in_a ? (size_t)(gr - a->offset[0]) * a->w + (size_t)(gc - a->offset[1]) : 0;
            size_t pb = in_b ? (size_t)(gr - b->offset[0]) * b->w + (size_t)(gc - b->offset[1]) : 0;
            double wa = in_a ? a->weight[pa] : 0.0, wb = in_b ? bw[pb] : 0.0, wsum = wa + wb;
            pty_cf *dst = out->object + (size_t)i * uw + j;
            if (wsum > 0.0) {
                pty_cf va = in_a ? a->object[pa] : pty_cf_make(0.0f, 0.0f);
                pty_cf vb = in_b ? bobj[pb] : pty_cf_make(0.0f, 0.0f);
                *dst = pty_cf_make((float)((wa * va.re + wb * vb.re) / wsum), (float)((wa * va.im + wb * vb.im) / wsum));
                out->weight[(size_t)i * uw + j] = (float)wsum;
            } else if (in_a) {
                *dst = a->object[pa];
            } else if (in_b) {
                *dst = bobj[pb];
            }
        }
    r.seconds = pty_now_s() - t_start;
    if (rep) *rep = r;
done:
    if (rc != PTY_OK) pty_partial_free(out);
    pty_aligner_destroy(x.al);
    free(x.mask);
    free(x.af);
    free(bobj);
    free(bw);
    return rc;
}
