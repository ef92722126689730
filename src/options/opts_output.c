/* opts_output.c - the output block: the prefix every result file is named
 * from, and whether images are written besides the HDF5 result. */
#include <string.h>
#include <strings.h>

#include "opts.h"
#include "pty_error.h"

/* A trailing ".h5" is dropped, so "--output run7.h5" writes run7.h5 (not
 * run7.h5.h5) and run7_*.tif. */
static int check_output(void *ctx)
{
    pty_output_flags *f = ctx;
    PTY_CHECK(f->output, PTY_ERR_ARG, "no --output PREFIX given");
    size_t len = strlen(f->output);
    if (len >= 3 && strcasecmp(f->output + len - 3, ".h5") == 0) len -= 3;
    /* room for the longest name written from it, PREFIX_object_magnitude.tif.tmp */
    PTY_CHECK(len > 0 && len + 40 < sizeof f->prefix, PTY_ERR_ARG, "--output '%s' is %s", f->output,
              len == 0 ? "not a file prefix" : "too long");
    memcpy(f->prefix, f->output, len);
    f->prefix[len] = '\0';
    return PTY_OK;
}

void pty_opts_output(pty_opt_block *b, pty_output_flags *f)
{
    const pty_option table[] = {
        PTY_OPT("output", PTY_OPT_STRING, &f->output, 1, 0, "output prefix: PREFIX.h5 and PREFIX_*.tif, a trailing .h5 dropped"),
        PTY_OPT("no-tiff", PTY_OPT_FLAG, &f->no_tiff, 1, 0, "write only the HDF5 result"),
    };
    PTY_OPT_BLOCK(b, "output", table, check_output, f);
}
