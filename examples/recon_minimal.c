/* recon_minimal.c - libptycho in twenty lines: read a CXI scan, reconstruct
 * it with the default settings, write the result.
 *     cc recon_minimal.c $(pkg-config --cflags --libs ptycho) -o recon_minimal
 *     ./recon_minimal scan.cxi result 100        (writes result.h5 and images) */
#include <stdio.h>
#include <stdlib.h>

#include <ptycho.h>

static int fail(const char *what) { fprintf(stderr, "%s: %s\n", what, ptycho_error_message()); return 1; }

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: %s SCAN.cxi PREFIX ITERATIONS\n", argv[0]); return 2; }
    ptycho_scan *scan;
    ptycho_recon *recon;
    if (ptycho_scan_read(argv[1], NULL, &scan) != PTYCHO_OK) return fail("read");
    if (ptycho_recon_create(scan, NULL, &recon) != PTYCHO_OK) return fail("plan");
    if (ptycho_recon_iterate(recon, atoi(argv[3]), NULL, NULL) != PTYCHO_OK) return fail("iterate");
    int n;
    const double *errors = ptycho_recon_errors(recon, &n);
    printf("libptycho %s: %d iterations, final error %.4e\n", ptycho_version(), n, errors[n - 1]);
    if (ptycho_recon_write(recon, argv[2], 1) != PTYCHO_OK) return fail("write");
    ptycho_recon_destroy(recon);
    ptycho_scan_destroy(scan);
    return 0;
}
