/* api_recon.c - reconstructions for the public interface: the single-rank
 * path of `ptycho recon` (first probe, plan, iterations, result files), so a
 * program gets what the command line gives for the same scan and settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_types.h"
#include "convergence.h"
#include "pty_error.h"
#include "result_write.h"
#include "staging.h"

struct ptycho_recon {
    pty_dataset view;  /* the scan's frames and positions, with a probe of its own */
    pty_plan *plan;
    pty_recon_params params; /* as run: the order the plan chose */
    pty_probe_guess_report guess;
    char *source, *fft_wisdom; /* copies: the settings need not outlive the recon */
};

int ptycho_recon_create(const ptycho_scan *scan, const ptycho_settings *s, ptycho_recon **out)
{
    PTY_CHECK(out, PTY_ERR_ARG, "ptycho_recon_create: no place for the reconstruction (out is NULL)");
    *out = NULL;
    PTY_CHECK(scan, PTY_ERR_ARG, "ptycho_recon_create: no scan");
    pty_api_config c;
    PTY_TRY(pty_api_config_from(s, &c));
    ptycho_recon *r = calloc(1, sizeof *r);
    PTY_CHECK(r, PTY_ERR_NOMEM, "cannot allocate a reconstruction");
    r->view = *scan->data;
    r->view.probe = NULL;
    const char *wisdom = c.epie.fft_wisdom;
    r->source = strdup(scan->source);
    c.epie.fft_wisdom = r->fft_wisdom = wisdom ? strdup(wisdom) : NULL;
    int rc = r->source && (r->fft_wisdom || !wisdom) ? PTY_OK
                                                      : pty_error_set(PTY_ERR_NOMEM, "cannot allocate a reconstruction");
    const pty_dataset *d = scan->data;
    if (rc == PTY_OK && d->probe) {
        const size_t n = (size_t)d->probe_modes * d->m * d->m;
        r->view.probe = malloc(n * sizeof *r->view.probe);
        if (!r->view.probe) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the first probe");
        else memcpy(r->view.probe, d->probe, n * sizeof *d->probe);
    }
    c.guess.diameter_px = c.epie.probe_diameter;
    if (rc == PTY_OK) rc = pty_probe_guess(&r->view, &c.guess, &c.epie, &r->guess);
    if (rc == PTY_OK) rc = pty_plan_create(&r->view, &c.epie, NULL, &r->plan);
    if (rc != PTY_OK) {
        ptycho_recon_destroy(r);
        return rc;
    }
    r->params = c.epie;
    r->params.order = pty_plan_order(r->plan);
    *out = r;
    return PTY_OK;
}

typedef struct progress_relay {
    ptycho_progress_fn fn;
    void *user;
} progress_relay;

static int relay(void *user, int iter, int n_iter, double error, double seconds)
{
    const progress_relay *p = user;
    (void)seconds;
    return p->fn(p->user, iter, n_iter, error);
}

int ptycho_recon_iterate(ptycho_recon *r, int n, ptycho_progress_fn progress, void *user)
{
    PTY_CHECK(r, PTY_ERR_ARG, "ptycho_recon_iterate: no reconstruction");
    PTY_CHECK(n >= 0, PTY_ERR_ARG, "ptycho_recon_iterate: %d iterations; give 0 or more", n);
    progress_relay p = {progress, user};
    return pty_plan_execute(r->plan, n, progress ? relay : NULL, &p);
}

void ptycho_recon_object_shape(const ptycho_recon *r, int *h, int *w, double origin[2])
{
    const pty_geometry *g = pty_plan_geometry(r->plan);
    if (h) *h = g->obj_h;
    if (w) *w = g->obj_w;
    if (origin) memcpy(origin, g->origin, sizeof g->origin);
}

int ptycho_recon_get_object(const ptycho_recon *r, ptycho_complex *out)
{
    PTY_CHECK(r && out, PTY_ERR_ARG, "ptycho_recon_get_object: no reconstruction or no array");
    return pty_plan_get_object(r->plan, (pty_cf *)out);
}

void ptycho_recon_probe_shape(const ptycho_recon *r, int *n_modes, int *m)
{
    if (n_modes) *n_modes = r->params.n_modes;
    if (m) *m = r->view.m;
}

int ptycho_recon_get_probe(const ptycho_recon *r, ptycho_complex *out)
{
    PTY_CHECK(r && out, PTY_ERR_ARG, "ptycho_recon_get_probe: no reconstruction or no array");
    return pty_plan_get_probe(r->plan, (pty_cf *)out);
}

int ptycho_recon_get_positions(const ptycho_recon *r, double *out)
{
    PTY_CHECK(r && out, PTY_ERR_ARG, "ptycho_recon_get_positions: no reconstruction or no array");
    pty_plan_positions(r->plan, out);
    return PTY_OK;
}

const double *ptycho_recon_errors(const ptycho_recon *r, int *n) { return pty_plan_errors(r->plan, n); }
const char *ptycho_recon_backend(const ptycho_recon *r) { return pty_plan_backend_name(r->plan); }
const char *ptycho_recon_probe_start(const ptycho_recon *r) { return r->guess.how; }

int ptycho_recon_verdict(const ptycho_recon *r, char *advice, size_t size)
{
    int n;
    const double *e = pty_plan_errors(r->plan, &n);
    const double floor = pty_plan_noise_floor(r->plan);
    const int verdict = pty_convergence_judge(e, n, floor);
    if (advice && size > 0) {
        advice[0] = '\0';
        if (verdict != PTY_CONVERGED) pty_convergence_advice(verdict, e, n, floor, "the reconstruction", advice, size);
    }
    return verdict;
}

int ptycho_recon_write(const ptycho_recon *r, const char *prefix, int images)
{
    PTY_CHECK(r && prefix && prefix[0], PTY_ERR_ARG, "ptycho_recon_write: no reconstruction or no prefix");
    const pty_geometry *g = pty_plan_geometry(r->plan);
    const int m = r->view.m, k = r->params.n_modes;
    pty_cf *object = malloc((size_t)g->obj_h * g->obj_w * sizeof *object);
    pty_cf *probe = malloc((size_t)k * m * m * sizeof *probe);
    const int refined = r->params.position_start >= 0;
    double *positions = refined ? malloc((size_t)r->view.n_frames * 2 * sizeof *positions) : NULL;
    char path[4096], cmdline[64];
    int rc = object && probe && (positions || !refined) ? PTY_OK : pty_error_set(PTY_ERR_NOMEM, "cannot allocate the result");
    if (rc == PTY_OK && refined) pty_plan_positions(r->plan, positions);
    if (rc == PTY_OK) rc = pty_plan_get_object(r->plan, object);
    if (rc == PTY_OK) rc = pty_plan_get_probe(r->plan, probe);
    if (rc == PTY_OK && snprintf(path, sizeof path, "%s.h5", prefix) >= (int)sizeof path)
        rc = pty_error_set(PTY_ERR_ARG, "ptycho_recon_write: prefix too long");
    if (rc == PTY_OK) {
        int n_errors;
        const double *errors = pty_plan_errors(r->plan, &n_errors);
        double setup_s, iterate_s;
        pty_plan_timings(r->plan, &setup_s, &iterate_s);
        snprintf(cmdline, sizeof cmdline, "libptycho %s", PTY_VERSION);
        const pty_result res = {
            .object = object, .obj_h = g->obj_h, .obj_w = g->obj_w,
            .origin = {g->origin[0], g->origin[1]},
            .probe = probe, .n_modes = k, .m = m,
            .errors = errors, .n_errors = n_errors,
            .positions = r->view.positions, .refined_positions = positions, .n_positions = r->view.n_frames,
            .pixel_size = r->view.pixel_size, .backend = pty_plan_backend_name(r->plan),
            .input = r->source, .command_line = cmdline,
            .setup_s = setup_s, .iterate_s = iterate_s, .params = &r->params,
            .probe_start = r->guess.how, .n_ranks = 1,
        };
        pty_stage_begin(); /* the result's files together, or none */
        rc = pty_result_write_h5(path, &res);
        if (rc == PTY_OK && images) rc = pty_result_write_tiffs(prefix, &res);
        if (rc == PTY_OK) rc = pty_stage_commit();
        pty_stage_end();
    }
    free(object);
    free(probe);
    free(positions);
    return rc;
}

void ptycho_recon_destroy(ptycho_recon *r)
{
    if (!r) return;
    pty_plan_destroy(r->plan);
    free(r->view.probe);
    free(r->source);
    free(r->fft_wisdom);
    free(r);
}
