/* h5util.c - HDF5 reading and writing with messages that name file and dataset. */
#define _GNU_SOURCE /* dladdr */
#include "h5util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pty_error.h"
#include "staging.h"

/* Compression plugins (detector files: bitshuffle/LZ4 32008, LZ4 32004, ...) where the
 * distribution puts them, beside the HDF5 library (Debian: <libdir>/hdf5/serial/plugins, from
 * hdf5-filter-plugin and bitshuffle), so that nobody has to set HDF5_PLUGIN_PATH; a path the user
 * sets is left alone. */
static void find_plugins(void)
{
    if (getenv("HDF5_PLUGIN_PATH")) return;
    char dir[4096] = "";
    Dl_info info;
    if (dladdr((void *)H5open, &info) && info.dli_fname) {
        snprintf(dir, sizeof dir, "%s", info.dli_fname);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
    }
    const char *flavours[2] = {"hdf5/serial/plugins", "hdf5/plugins"};
    for (int i = 0; dir[0] && i < 2; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, flavours[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) H5PLappend(path);
    }
}

void pty_h5_init(void)
{
    /* no library shutdown at exit: after a write failed (a full disk, a file-size limit) HDF5 1.10
       keeps the half-closed file and its shutdown crashes on it; the process ends anyway */
    H5dont_atexit();
    H5open();
    find_plugins();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Why a file HDF5 would not open is not HDF5's to say: a directory, a pipe, another program's
 * lock and a damaged file all read as "cannot open". */
static int why_not_open(const char *path)
{
    const int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        const int locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(fd);
        if (locked)
            return pty_error_set(PTY_ERR_IO,
                                 "'%s' is locked by another program that is writing it; wait for it to finish (a "
                                 "scan still being acquired can be followed: ptycho recon --follow)",
                                 path);
    }
    const hid_t swmr = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (swmr >= 0) {
        H5Fclose(swmr);
        return pty_error_set(PTY_ERR_IO,
                             "'%s' is being written by another program (or its writer died without closing it); "
                             "a scan still being acquired can be followed: ptycho recon --follow",
                             path);
    }
    return pty_error_set(PTY_ERR_HDF5, "cannot open HDF5 file '%s' (corrupt or truncated?)", path);
}

int pty_h5_open_read(const char *path, hid_t *file)
{
    *file = H5I_INVALID_HID;
    if (access(path, R_OK) != 0)
        return pty_error_set(PTY_ERR_IO, "cannot open '%s' (%s)", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return pty_error_set(PTY_ERR_IO, "'%s' is a %s, not a file: HDF5 reads regular files (copy the data to one)",
                             path, S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "pipe"
                                                     : S_ISSOCK(st.st_mode) ? "socket" : "device");
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is <= 0) return pty_error_set(PTY_ERR_HDF5, "'%s' is not an HDF5 file", path);
    *file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    return *file >= 0 ? PTY_OK : why_not_open(path);
}

int pty_h5_create(const char *path, hid_t *file)
{
    *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (*file < 0) return pty_error_set(PTY_ERR_IO, "cannot create HDF5 file '%s'", path);
    return PTY_OK;
}

int pty_h5_write_staged(const char *path, int (*fill)(hid_t file, const void *ctx), const void *ctx)
{
    char tmp[4300];
    PTY_TRY(pty_stage(path, tmp, sizeof tmp));
    hid_t f;
    int rc = pty_h5_create(tmp, &f);
    if (rc == PTY_OK) {
        rc = fill(f, ctx);
        if (H5Fclose(f) < 0 && rc == PTY_OK) rc = pty_error_set(PTY_ERR_IO, "cannot finish writing '%s' (disk full?)", tmp);
    }
    if (rc != PTY_OK) pty_error_context("writing '%s'", path);
    return pty_stage_close(tmp, rc);
}

int pty_h5_exists(hid_t file, const char *path)
{
    char buf[1024];
    if (strlen(path) >= sizeof buf) return 0;
    strcpy(buf, path);
    /* H5Lexists fails (rather than returning 0) when an intermediate group is
       missing, so test each prefix in turn */
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (buf[0] != '\0' && strcmp(buf, "/") != 0) {
                if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
                if (saved != '\0' && H5Oexists_by_name(file, buf, H5P_DEFAULT) <= 0) return 0;
            }
            *p = saved;
            if (saved == '\0') break;
        }
    }
    return H5Oexists_by_name(file, path, H5P_DEFAULT) > 0;
}

void pty_h5_why_missing(hid_t file, const char *path, char *why, size_t size)
{
    char buf[1024];
    why[0] = '\0';
    if (strlen(path) >= sizeof buf) return;
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        const char saved = *p;
        *p = '\0';
        H5L_info_t info;
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0 || H5Lget_info(file, buf, &info, H5P_DEFAULT) < 0) return;
        if (info.type == H5L_TYPE_SOFT && H5Oexists_by_name(file, buf, H5P_DEFAULT) <= 0) {
            /* a soft link whose target is missing: explain the target, with the rest of the path */
            char *val = malloc(info.u.val_size + 1), next[1024];
            const int ok = val && H5Lget_val(file, buf, val, info.u.val_size, H5P_DEFAULT) >= 0 &&
                           strcmp(val, path) != 0;
            if (ok) snprintf(next, sizeof next, "%s%s%s", val, saved ? "/" : "", saved ? p + 1 : "");
            free(val);
            if (ok) pty_h5_why_missing(file, next, why, size);
            return;
        }
        if (info.type == H5L_TYPE_EXTERNAL && H5Oexists_by_name(file, buf, H5P_DEFAULT) <= 0) {
            char *val = malloc(info.u.val_size + 1);
            const char *target_file = NULL, *target_path = NULL;
            unsigned flags;
            if (val && H5Lget_val(file, buf, val, info.u.val_size, H5P_DEFAULT) >= 0 &&
                H5Lunpack_elink_val(val, info.u.val_size, &flags, &target_file, &target_path) >= 0)
            {
                /* HDF5 looks for a relative target beside the file holding the link */
                char where[4400] = "", holder[4096] = "";
                if (target_file[0] != '/' && H5Fget_name(file, holder, sizeof holder) > 0 && strrchr(holder, '/'))
                    snprintf(where, sizeof where, "%.*s/%s", (int)(strrchr(holder, '/') - holder), holder, target_file);
                else
                    snprintf(where, sizeof where, "%s", target_file);
                snprintf(why, size, " ('%s' is an external link to '%s' in '%s', which %s)", buf, target_path, where,
                         access(where, R_OK) == 0 ? "does not hold it" : "cannot be opened (missing?)");
            }
            free(val);
            return;
        }
        *p = saved;
        if (saved == '\0') return;
    }
}

void pty_h5_shape_str(int rank, const hsize_t *dims, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    if (rank == 0) snprintf(buf, size, "scalar");
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? "x%llu" : "%llu", (unsigned long long)dims[i]);
}

static int open_dataset(hid_t file, const char *fname, const char *path, hid_t *dset)
{
    *dset = H5I_INVALID_HID;
    if (!pty_h5_exists(file, path)) {
        char why[1200];
        pty_h5_why_missing(file, path, why, sizeof why);
        return pty_error_set(PTY_ERR_HDF5, "'%s' has no dataset '%s'%s", fname, path, why);
    }
    *dset = H5Dopen2(file, path, H5P_DEFAULT);
    if (*dset < 0) return pty_error_set(PTY_ERR_HDF5, "'%s': '%s' is not a dataset", fname, path);
    return PTY_OK;
}

int pty_h5_shape(hid_t file, const char *fname, const char *path, int *rank, hsize_t dims[4])
{
    hid_t d;
    PTY_TRY(open_dataset(file, fname, path, &d));
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    int rc = PTY_OK;
    if (r < 0 || r > 4) {
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': dataset '%s' has rank %d (at most 4 expected)", fname, path, r);
    } else {
        *rank = r;
        H5Sget_simple_extent_dims(s, dims, NULL);
    }
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

static hid_t complex_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(pty_cf));
    H5Tinsert(t, "r", HOFFSET(pty_cf, re), H5T_NATIVE_FLOAT);
    H5Tinsert(t, "i", HOFFSET(pty_cf, im), H5T_NATIVE_FLOAT);
    return t;
}

int pty_h5_is_complex(hid_t file, const char *path)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) return 0;
    hid_t t = H5Dget_type(d);
    int ok = H5Tget_class(t) == H5T_COMPOUND && H5Tget_member_index(t, "r") >= 0 && H5Tget_member_index(t, "i") >= 0;
    H5Tclose(t);
    H5Dclose(d);
    return ok;
}

/* An enumeration (h5py writes numpy booleans so: FALSE = 0, TRUE = 1) as
 * its integer values. */
static int read_enum(hid_t d, hid_t t, const char *fname, const char *path, hid_t mtype, void *out, size_t n)
{
    hid_t base = H5Tget_super(t);
    hid_t native = base >= 0 ? H5Tget_native_type(base, H5T_DIR_DEFAULT) : H5I_INVALID_HID;
    long long *v = malloc(n * sizeof *v);
    int rc = PTY_OK;
    /* values read as the base integer type, then widened */
    hid_t mem = native >= 0 ? H5Tenum_create(H5T_NATIVE_LLONG) : H5I_INVALID_HID;
    const int members = H5Tget_nmembers(t);
    for (int i = 0; mem >= 0 && i < members; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        long long value = 0;
        unsigned char raw[16] = {0};
        if (name && H5Tget_member_value(t, (unsigned)i, raw) >= 0 &&
            H5Tconvert(base, H5T_NATIVE_LLONG, 1, raw, NULL, H5P_DEFAULT) >= 0) {
            memcpy(&value, raw, sizeof value);
            H5Tenum_insert(mem, name, &value);
        }
        H5free_memory(name);
    }
    if (!v || mem < 0 || H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': cannot read the enumeration '%s' as integers", fname, path);
    for (size_t i = 0; rc == PTY_OK && i < n; i++) {
        if (H5Tequal(mtype, H5T_NATIVE_FLOAT) > 0) ((float *)out)[i] = (float)v[i];
        else if (H5Tequal(mtype, H5T_NATIVE_DOUBLE) > 0) ((double *)out)[i] = (double)v[i];
        else if (H5Tequal(mtype, H5T_NATIVE_INT) > 0) ((int *)out)[i] = (int)v[i];
        else rc = pty_error_set(PTY_ERR_HDF5, "'%s': '%s' is an enumeration, read here only as numbers", fname, path);
    }
    free(v);
    if (mem >= 0) H5Tclose(mem);
    if (native >= 0) H5Tclose(native);
    if (base >= 0) H5Tclose(base);
    return rc;
}

/* Read `expect` elements of `path` as memory type `mtype`, checking the class. */
static int read_numeric(hid_t file, const char *fname, const char *path, hid_t mtype, void *out, size_t expect)
{
    hid_t d;
    PTY_TRY(open_dataset(file, fname, path, &d));
    int rc = PTY_OK;
    hid_t t = H5Dget_type(d), fs = H5Dget_space(d);
    H5T_class_t cls = H5Tget_class(t);
    hssize_t npoints = H5Sget_simple_extent_npoints(fs);
    if (cls == H5T_ENUM && (size_t)npoints == expect) {
        rc = read_enum(d, t, fname, path, mtype, out, expect);
    } else if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': dataset '%s' holds %s, not numbers", fname, path,
                           cls == H5T_STRING ? "strings" : cls == H5T_COMPOUND ? "records (a compound type)"
                                                                              : "values of an unsupported type");
    else if ((size_t)npoints != expect)
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': dataset '%s' has %lld elements, expected %zu", fname, path,
                           (long long)npoints, expect);
    else if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': cannot read dataset '%s' (corrupt file or unavailable filter?)", fname, path);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(d);
    return rc;
}

int pty_h5_read_float(hid_t file, const char *fname, const char *path, float *out, size_t expect)
{
    return read_numeric(file, fname, path, H5T_NATIVE_FLOAT, out, expect);
}

int pty_h5_read_double(hid_t file, const char *fname, const char *path, double *out, size_t expect)
{
    return read_numeric(file, fname, path, H5T_NATIVE_DOUBLE, out, expect);
}

int pty_h5_read_complex(hid_t file, const char *fname, const char *path, pty_cf *out, size_t expect)
{
    hid_t d;
    PTY_TRY(open_dataset(file, fname, path, &d));
    int rc = PTY_OK;
    hid_t s = H5Dget_space(d);
    hssize_t npoints = H5Sget_simple_extent_npoints(s);
    hid_t ct = complex_type();
    if (!pty_h5_is_complex(file, path)) {
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': dataset '%s' is not complex (a compound with members 'r' and 'i')",
                           fname, path);
    } else if ((size_t)npoints != expect) {
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': dataset '%s' has %lld elements, expected %zu", fname, path,
                           (long long)npoints, expect);
    } else if (H5Dread(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': cannot read dataset '%s'", fname, path);
    }
    H5Tclose(ct);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

int pty_h5_read_scalar(hid_t file, const char *fname, const char *path, double *out)
{
    int rc = read_numeric(file, fname, path, H5T_NATIVE_DOUBLE, out, 1);
    if (rc != PTY_OK && pty_h5_exists(file, path))
        return pty_error_set(rc, "'%s': dataset '%s' must hold a single number", fname, path);
    return rc;
}

static hid_t link_props(void)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    return lcpl;
}

static int write_typed(hid_t loc, const char *path, hid_t mtype, hid_t ftype, const void *data, int rank,
                       const hsize_t *dims, hid_t dcpl)
{
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = link_props();
    /* no modification times in object headers: the same inputs must give
       byte-identical files */
    hid_t own_dcpl = dcpl == H5P_DEFAULT ? H5Pcreate(H5P_DATASET_CREATE) : H5Pcopy(dcpl);
    H5Pset_obj_track_times(own_dcpl, 0);
    hid_t d = H5Dcreate2(loc, path, ftype, space, lcpl, own_dcpl, H5P_DEFAULT);
    H5Pclose(own_dcpl);
    int rc = PTY_OK;
    errno = 0;
    if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        /* HDF5's file driver leaves write()'s errno behind: the reason, where there is one */
        const int err = errno;
        rc = pty_error_set(PTY_ERR_IO, "cannot write dataset '%s' (%s)", path,
                           err == EFBIG ? "file too large for this process's file-size limit or the file system"
                           : err == ENOSPC ? "no space left on the device"
                           : err == EDQUOT ? "disk quota exceeded" : "disk full?");
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(space);
    return rc;
}

int pty_h5_write_float(hid_t loc, const char *path, const float *data, int rank, const hsize_t *dims)
{
    return write_typed(loc, path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, data, rank, dims, H5P_DEFAULT);
}

int pty_h5_write_double(hid_t loc, const char *path, const double *data, int rank, const hsize_t *dims)
{
    return write_typed(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, data, rank, dims, H5P_DEFAULT);
}

int pty_h5_write_int(hid_t loc, const char *path, const int *data, int rank, const hsize_t *dims)
{
    return write_typed(loc, path, H5T_NATIVE_INT, H5T_STD_I32LE, data, rank, dims, H5P_DEFAULT);
}

int pty_h5_write_complex(hid_t loc, const char *path, const pty_cf *data, int rank, const hsize_t *dims)
{
    hid_t ct = complex_type();
    int rc = write_typed(loc, path, ct, ct, data, rank, dims, H5P_DEFAULT);
    H5Tclose(ct);
    return rc;
}

int pty_h5_write_scalar(hid_t loc, const char *path, double value)
{
    return write_typed(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, &value, 0, NULL, H5P_DEFAULT);
}

int pty_h5_write_string(hid_t loc, const char *path, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    int rc = write_typed(loc, path, t, t, value, 0, NULL, H5P_DEFAULT);
    H5Tclose(t);
    return rc;
}

int pty_h5_write_frames(hid_t loc, const char *path, const float *data, hsize_t n, hsize_t m)
{
    hsize_t dims[3] = {n, m, m}, chunk[3] = {1, m, m};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    H5Pset_deflate(dcpl, 4);
    int rc = write_typed(loc, path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, data, 3, dims, dcpl);
    H5Pclose(dcpl);
    return rc;
}

static int write_attr(hid_t loc, const char *path, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(loc, path, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = PTY_OK;
    if (a < 0 || H5Awrite(a, type, value) < 0)
        rc = pty_error_set(PTY_ERR_IO, "cannot write attribute '%s' of '%s'", name, path);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return rc;
}

int pty_h5_attr_text(hid_t loc, const char *path, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const int rc = write_attr(loc, path, name, t, &value);
    H5Tclose(t);
    return rc;
}

int pty_h5_attr_read_string(hid_t file, const char *path, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    if (size < 2 || H5Aexists_by_name(file, path, name, H5P_DEFAULT) <= 0) return 0;
    hid_t a = H5Aopen_by_name(file, path, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = a < 0 ? H5I_INVALID_HID : H5Aget_type(a);
    int ok = 0;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &v) >= 0 && v) {
                snprintf(out, size, "%s", v);
                ok = 1;
            }
            if (v) H5free_memory(v);
            H5Tclose(mt);
        } else {
            const size_t len = H5Tget_size(t);
            char *v = calloc(len + 1, 1);
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, len + 1);
            if (v && H5Aread(a, mt, v) >= 0) {
                snprintf(out, size, "%s", v);
                ok = 1;
            }
            free(v);
            H5Tclose(mt);
        }
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    /* fixed-length strings come padded */
    for (size_t n = strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'); n--) out[n - 1] = '\0';
    return ok;
}

int pty_h5_attr_double(hid_t loc, const char *path, const char *name, double value)
{
    return write_attr(loc, path, name, H5T_NATIVE_DOUBLE, &value);
}

int pty_h5_attr_string(hid_t loc, const char *path, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value) + 1);
    int rc = write_attr(loc, path, name, t, value);
    H5Tclose(t);
    return rc;
}

int pty_h5_soft_link(hid_t loc, const char *target, const char *link)
{
    hid_t lcpl = link_props();
    herr_t e = H5Lcreate_soft(target, loc, link, lcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (e < 0) return pty_error_set(PTY_ERR_IO, "cannot create link '%s' -> '%s'", link, target);
    return PTY_OK;
}
