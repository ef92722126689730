/* h5util.h - the few HDF5 operations ptycho needs, with messages that name
 * the file and dataset.
 *
 * Complex arrays use h5py's convention: a compound of two float32 named
 * "r" and "i".  Writers create intermediate groups.  Call pty_h5_init()
 * once before anything else: it silences HDF5's own error-stack printing so
 * the user sees one ptycho message instead of a page of traceback. */
#ifndef PTY_H5UTIL_H
#define PTY_H5UTIL_H

#include <hdf5.h>

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

void pty_h5_init(void);

/* Open an existing file read-only.  Distinguishes "does not exist" /
 * "cannot be read" (PTY_ERR_IO) from "not an HDF5 file" (PTY_ERR_HDF5). */
int pty_h5_open_read(const char *path, hid_t *file);

/* Create (truncate) a file for writing. */
int pty_h5_create(const char *path, hid_t *file);

/* Write `path` whole through fill(file, ctx): under a staged temporary name
 * (staging.h), which takes its place only when fill and the close succeed;
 * a failure's message gets "writing 'path'". */
int pty_h5_write_staged(const char *path, int (*fill)(hid_t file, const void *ctx), const void *ctx);

/* 1 when `path` names an existing link in the file (intermediate groups
 * checked one by one), else 0. */
int pty_h5_exists(hid_t file, const char *path);

/* Why `path` (which pty_h5_exists says is not there) is missing, when a
 * link on the way explains it: " ('/a' is an external link to '/b' in
 * 'c.h5', which cannot be opened (missing?))"; "" otherwise. */
void pty_h5_why_missing(hid_t file, const char *path, char *why, size_t size);

/* Shape of a dataset: rank into *rank and up to 4 dims. */
int pty_h5_shape(hid_t file, const char *fname, const char *path, int *rank, hsize_t dims[4]);

/* "4x3", "16x16x16" or "scalar", for messages. */
void pty_h5_shape_str(int rank, const hsize_t *dims, char *buf, size_t size);

/* 1 if the dataset is a compound with members "r" and "i" (complex). */
int pty_h5_is_complex(hid_t file, const char *path);

/* Read a whole numeric dataset converted to float / double.  `expect` elements
 * must match the dataset size.  Complex or string datasets are refused. */
int pty_h5_read_float(hid_t file, const char *fname, const char *path, float *out, size_t expect);
int pty_h5_read_double(hid_t file, const char *fname, const char *path, double *out, size_t expect);

/* Read a complex (r, i compound) dataset of `expect` elements. */
int pty_h5_read_complex(hid_t file, const char *fname, const char *path, pty_cf *out, size_t expect);

/* Read one scalar (a dataset of one element) as double. */
int pty_h5_read_scalar(hid_t file, const char *fname, const char *path, double *out);

/* Writers: rank <= 4; create intermediate groups. */
int pty_h5_write_float(hid_t loc, const char *path, const float *data, int rank, const hsize_t *dims);
int pty_h5_write_double(hid_t loc, const char *path, const double *data, int rank, const hsize_t *dims);
int pty_h5_write_int(hid_t loc, const char *path, const int *data, int rank, const hsize_t *dims);
int pty_h5_write_complex(hid_t loc, const char *path, const pty_cf *data, int rank, const hsize_t *dims);
int pty_h5_write_scalar(hid_t loc, const char *path, double value);
int pty_h5_write_string(hid_t loc, const char *path, const char *value);
/* gzip-compressed float frames, chunked one frame per chunk */
int pty_h5_write_frames(hid_t loc, const char *path, const float *data, hsize_t n, hsize_t m);

/* Attributes on an object (group or dataset) at `path` ("." for loc itself). */
int pty_h5_attr_double(hid_t loc, const char *path, const char *name, double value);
int pty_h5_attr_string(hid_t loc, const char *path, const char *name, const char *value);
/* A variable-length UTF-8 string attribute (what h5py writes for a str, and reads back as one). */
int pty_h5_attr_text(hid_t loc, const char *path, const char *name, const char *value);

/* A string attribute `name` of the object at `path` into out; returns 1
 * when present and a string, else 0 (out = ""). */
int pty_h5_attr_read_string(hid_t file, const char *path, const char *name, char *out, size_t size);

/* Soft link `link` -> `target` (intermediate groups created). */
int pty_h5_soft_link(hid_t loc, const char *target, const char *link);

#ifdef __cplusplus
}
#endif
#endif /* PTY_H5UTIL_H */
