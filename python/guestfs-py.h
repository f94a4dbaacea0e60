/* python/guestfs-py.h: what python/guestfs.c (the hand-written part of
 * the `guestfs' extension module) offers the generated methods in
 * python/guestfs-gen.c: the handle object, argument conversion, entering
 * and leaving a call, and result conversion.
 *
 * A generated method converts its arguments (gp_arg_*: TypeError naming
 * the argument on a wrong type), takes the handle (gp_enter: the handle's
 * lock, ClosedHandle if closed), calls guestfs_NAME with the GIL released,
 * converts the result or raises RuntimeError with guestfs_last_error
 * (gp_raise), then lets the handle go (gp_leave) and drops what the
 * argument conversion kept alive (gp_drop).
 */
#ifndef GP_GUESTFS_PY_H
#define GP_GUESTFS_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include "guestfs.h"

/* The Python object guestfs.GuestFS. */
struct gp_handle {
  PyObject_HEAD
  guestfs_h *g;                 /* NULL once closed */
  PyThread_type_lock lock;      /* held for each call: one call at a time */
  unsigned long owner;          /* the thread holding lock, or 0 */
  PyObject *progress_cb;        /* set_progress_callback's callable, or NULL */
  int return_dict;              /* RHashtable: dict (1) or list of pairs (0) */
  int close_on_exit;            /* closed by the module's atexit hook */
  struct gp_handle *prev, *next; /* the module's list of open handles */
};

/* ---- python/guestfs.c: arguments ----
 * Each returns 0, or -1 with a Python exception set naming call and arg.
 * *keep gets a new reference the caller must gp_drop after the call (or
 * NULL): the object the C string points into, when it is not `o'. */
int gp_arg_buf (const char *call, const char *arg, PyObject *o,
                const char **out, size_t *len, PyObject **keep);
int gp_arg_str (const char *call, const char *arg, PyObject *o, int optional,
                const char **out, PyObject **keep);
int gp_arg_strlist (const char *call, const char *arg, PyObject *o,
                    char ***out, PyObject **keep);
/* Int and Int64 arguments: an int in [min, max], else OverflowError. */
int gp_arg_integer (const char *call, const char *arg, PyObject *o,
                    long long min, long long max, long long *out);
int gp_arg_bool (const char *call, const char *arg, PyObject *o, int *out);
/* Drop the n references in keep (NULLs are skipped) and free the string
 * list arrays in lists (NULLs skipped). */
void gp_drop (PyObject **keep, int n, char ***lists, int nlists);

/* ---- python/guestfs.c: calls ---- */
/* Take the handle for one call: its guestfs_h, or NULL with ClosedHandle
 * raised.  Waits (GIL released) while another thread's call runs. */
guestfs_h *gp_enter (struct gp_handle *self, const char *call);
/* Let the handle go after gp_enter. */
void gp_leave (struct gp_handle *self);
/* Raise RuntimeError with the handle's last error; returns NULL. */
PyObject *gp_raise (guestfs_h *g, const char *call);

/* ---- python/guestfs.c: results ----
 * Each returns a new reference, or NULL with an exception set; none
 * frees its input.  Strings are decoded as UTF-8 with surrogateescape,
 * so bytes that are not UTF-8 come back as the os module gives them. */
PyObject *gp_str (const char *s);            /* NULL gives None */
PyObject *gp_optpercent (float f);           /* -1 (absent) gives None */
PyObject *gp_mem (const char *s, size_t n);
PyObject *gp_strlist (char *const *l);
PyObject *gp_hash (struct gp_handle *self, char *const *l);
/* Free a NULL-terminated string list and its strings (NULL is ignored). */
void gp_free_strings (char **l);
/* d[key] = v and drop v; -1 if v is NULL or the store fails. */
int gp_put (PyObject *d, const char *key, PyObject *v);

/* ---- python/guestfs-gen.c ---- */
extern PyMethodDef gp_methods[];   /* every call, then the hand-written ones */

/* ---- python/guestfs.c: hand-written methods, in gp_methods ---- */
PyObject *gp_close (struct gp_handle *self, PyObject *unused);
PyObject *gp_enter_ctx (struct gp_handle *self, PyObject *unused);
PyObject *gp_exit_ctx (struct gp_handle *self, PyObject *args);
PyObject *gp_set_progress_callback (struct gp_handle *self, PyObject *args, PyObject *kw);

#endif /* GP_GUESTFS_PY_H */
