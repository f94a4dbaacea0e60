/* python/guestfs.c: the hand-written part of the `guestfs' Python module,
 * a binding of the C library in the style of libguestfs's own Python
 * binding: guestfs.GuestFS() is a handle, each call of the action table
 * is a method of it (generated in python/guestfs-gen.c by
 * python/generate-py.py), errors raise RuntimeError with the call's
 * message, and guestfs.ClosedHandle (a ValueError) says that a closed
 * handle was used.
 *
 * Threads: every call releases the GIL while the library works, so
 * handles in different threads run at once.  One handle is used by one
 * call at a time (the C contract): each handle has a lock that a call
 * holds from gp_enter to gp_leave; a second thread on the same handle
 * waits for it with the GIL released.
 *
 * Here: argument and result conversion, the handle type, close and the
 * context manager, the atexit hook (close_on_exit) and module set-up.
 */
#include "guestfs-py.h"

#include <string.h>

static PyObject *gp_closed_error;   /* guestfs.ClosedHandle */
static struct gp_handle *gp_open;   /* open handles; the GIL guards it */

/* ---- Arguments ---- */

static int
wrong_type (const char *call, const char *arg, const char *want, PyObject *o)
{
  PyErr_Format (PyExc_TypeError, "%s() argument '%s' must be %s, not %s",
                call, arg, want, Py_TYPE (o)->tp_name);
  return -1;
}

/* The UTF-8 bytes of str o, NUL-terminated, or NULL with an exception.
 * Strings with lone surrogates (from os.fsdecode and friends) are encoded
 * with surrogateescape into a new bytes object left in *keep. */
static const char *
utf8_of (const char *call, const char *arg, PyObject *o, PyObject **keep)
{
  Py_ssize_t len;
  const char *s = PyUnicode_AsUTF8AndSize (o, &len);

  *keep = NULL;
  if (s == NULL) {
    if (!PyErr_ExceptionMatches (PyExc_UnicodeEncodeError))
      return NULL;
    PyErr_Clear ();
    if ((*keep = PyUnicode_AsEncodedString (o, "utf-8", "surrogateescape")) == NULL)
      return NULL;
    s = PyBytes_AS_STRING (*keep);
    len = PyBytes_GET_SIZE (*keep);
  }
  if (strlen (s) != (size_t) len) {
    PyErr_Format (PyExc_ValueError, "%s() argument '%s' contains a NUL character",
                  call, arg);
    Py_CLEAR (*keep);
    return NULL;
  }
  return s;
}

int
gp_arg_str (const char *call, const char *arg, PyObject *o, int optional,
            const char **out, PyObject **keep)
{
  *keep = NULL;
  if (o == Py_None && optional) {
    *out = NULL;
    return 0;
  }
  if (!PyUnicode_Check (o))
    return wrong_type (call, arg, optional ? "str or None" : "str", o);
  *out = utf8_of (call, arg, o, keep);
  return *out ? 0 : -1;
}

/* BufferIn: bytes (immutable, so its buffer may be read with the GIL
 * released; *keep holds a reference until the call is over). */
int
gp_arg_buf (const char *call, const char *arg, PyObject *o,
            const char **out, size_t *len, PyObject **keep)
{
  *keep = NULL;
  if (!PyBytes_Check (o))
    return wrong_type (call, arg, "bytes", o);
  Py_INCREF (o);
  *keep = o;
  *out = PyBytes_AS_STRING (o);
  *len = (size_t) PyBytes_GET_SIZE (o);
  return 0;
}

/* A list or tuple of str as a NULL-terminated array (PyMem_Malloc'd,
 * freed by gp_drop).  *keep is a tuple holding every object the strings
 * point into, so a list changed by another thread meanwhile is harmless. */
int
gp_arg_strlist (const char *call, const char *arg, PyObject *o,
                char ***out, PyObject **keep)
{
  Py_ssize_t n;

  *out = NULL;
  *keep = NULL;
  if (!PyList_Check (o) && !PyTuple_Check (o))
    return wrong_type (call, arg, "a list or tuple of str", o);
  n = PySequence_Fast_GET_SIZE (o);
  if ((*keep = PyTuple_New (n)) == NULL)
    return -1;
  if ((*out = PyMem_Calloc ((size_t) n + 1, sizeof (char *))) == NULL) {
    PyErr_NoMemory ();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n && i < PySequence_Fast_GET_SIZE (o); i++) {
    PyObject *item = PySequence_Fast_GET_ITEM (o, i), *held;
    const char *s;

    if (!PyUnicode_Check (item)) {
      PyErr_Format (PyExc_TypeError, "%s() argument '%s' item %zd must be str, not %s",
                    call, arg, i, Py_TYPE (item)->tp_name);
      return -1;
    }
    if ((s = utf8_of (call, arg, item, &held)) == NULL)
      return -1;
    if (held == NULL) {
      held = item;
      Py_INCREF (held);
    }
    PyTuple_SET_ITEM (*keep, i, held);
    (*out)[i] = (char *) s;
  }
  return 0;
}

/* An int (or an object with __index__) in [min, max]. */
int
gp_arg_integer (const char *call, const char *arg, PyObject *o,
                long long min, long long max, long long *out)
{
  int overflow;

  if (!PyLong_Check (o) && !PyIndex_Check (o))
    return wrong_type (call, arg, "int", o);
  *out = PyLong_AsLongLongAndOverflow (o, &overflow);
  if (*out == -1 && PyErr_Occurred ())
    return -1;
  if (overflow || *out < min || *out > max) {
    PyErr_Format (PyExc_OverflowError, "%s() argument '%s' is out of range "
                  "(%lld to %lld)", call, arg, min, max);
    return -1;
  }
  return 0;
}

/* True, False, or an int (libguestfs scripts pass readonly=1). */
int
gp_arg_bool (const char *call, const char *arg, PyObject *o, int *out)
{
  if (!PyLong_Check (o))
    return wrong_type (call, arg, "bool", o);
  *out = PyObject_IsTrue (o);
  return *out == -1 ? -1 : 0;
}

void
gp_drop (PyObject **keep, int n, char ***lists, int nlists)
{
  for (int i = 0; i < n; i++)
    Py_XDECREF (keep[i]);
  for (int i = 0; i < nlists; i++)
    PyMem_Free (lists[i]);
}

/* ---- Calls ---- */

/* Take self->lock, waiting with the GIL released; 0, or -1 with
 * RuntimeError when this thread holds it already: a callback (run
 * inside one of this handle's calls) used its own handle. */
static int
take (struct gp_handle *self, const char *call)
{
  unsigned long me = PyThread_get_thread_ident ();

  if (__atomic_load_n (&self->owner, __ATOMIC_RELAXED) == me) {
    PyErr_Format (PyExc_RuntimeError, "%s: called from a callback during a "
                  "call on the same handle", call);
    return -1;
  }
  if (!PyThread_acquire_lock (self->lock, NOWAIT_LOCK)) {
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock (self->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
  }
  __atomic_store_n (&self->owner, me, __ATOMIC_RELAXED);
  return 0;
}

guestfs_h *
gp_enter (struct gp_handle *self, const char *call)
{
  if (take (self, call) == -1)
    return NULL;
  if (self->g == NULL) {
    gp_leave (self);
    PyErr_Format (gp_closed_error, "%s: called on a closed handle "
                  "(GuestFS.close was called)", call);
    return NULL;
  }
  return self->g;
}

void
gp_leave (struct gp_handle *self)
{
  __atomic_store_n (&self->owner, 0, __ATOMIC_RELAXED);
  PyThread_release_lock (self->lock);
}

PyObject *
gp_raise (guestfs_h *g, const char *call)
{
  const char *msg = guestfs_last_error (g);
  PyObject *m;

  if (msg && (m = gp_str (msg)) != NULL) {
    PyErr_SetObject (PyExc_RuntimeError, m);
    Py_DECREF (m);
  }
  else if (msg == NULL)
    PyErr_Format (PyExc_RuntimeError, "%s: failed (no message)", call);
  return NULL;
}

/* ---- Results ---- */

PyObject *
gp_mem (const char *s, size_t n)
{
  return PyUnicode_DecodeUTF8 (s, (Py_ssize_t) n, "surrogateescape");
}

PyObject *
gp_str (const char *s)
{
  if (s == NULL)
    Py_RETURN_NONE;
  return gp_mem (s, strlen (s));
}

PyObject *
gp_optpercent (float f)
{
  if (f < 0)
    Py_RETURN_NONE;
  return PyFloat_FromDouble (f);
}

PyObject *
gp_strlist (char *const *l)
{
  PyObject *list = PyList_New (0);

  for (size_t i = 0; list && l[i]; i++) {
    PyObject *s = gp_str (l[i]);
    if (s == NULL || PyList_Append (list, s) == -1)
      Py_CLEAR (list);
    Py_XDECREF (s);
  }
  return list;
}

/* Key, value pairs: a dict, or for python_return_dict=False (the
 * libguestfs default) a list of (key, value) tuples. */
PyObject *
gp_hash (struct gp_handle *self, char *const *l)
{
  PyObject *r = self->return_dict ? PyDict_New () : PyList_New (0);

  for (size_t i = 0; r && l[i] && l[i + 1]; i += 2) {
    PyObject *k = gp_str (l[i]), *v = gp_str (l[i + 1]), *pair = NULL;
    int bad = k == NULL || v == NULL;

    if (!bad && self->return_dict)
      bad = PyDict_SetItem (r, k, v) == -1;
    else if (!bad)
      bad = (pair = PyTuple_Pack (2, k, v)) == NULL || PyList_Append (r, pair) == -1;
    Py_XDECREF (k);
    Py_XDECREF (v);
    Py_XDECREF (pair);
    if (bad)
      Py_CLEAR (r);
  }
  return r;
}

void
gp_free_strings (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

int
gp_put (PyObject *d, const char *key, PyObject *v)
{
  int r;

  if (v == NULL)
    return -1;
  r = PyDict_SetItemString (d, key, v);
  Py_DECREF (v);
  return r;
}

/* ---- The handle type ---- */

static void
list_remove (struct gp_handle *h)
{
  if (h->prev)
    h->prev->next = h->next;
  else if (gp_open == h)
    gp_open = h->next;
  if (h->next)
    h->next->prev = h->prev;
  h->prev = h->next = NULL;
}

/* Close the C handle; the caller holds self->lock. */
static void
close_locked (struct gp_handle *self)
{
  guestfs_h *g = self->g;

  if (g == NULL)
    return;
  self->g = NULL;
  list_remove (self);
  Py_BEGIN_ALLOW_THREADS
  guestfs_close (g);
  Py_END_ALLOW_THREADS
}

static PyObject *
handle_new (PyTypeObject *type, PyObject *args, PyObject *kw)
{
  struct gp_handle *self = (struct gp_handle *) type->tp_alloc (type, 0);

  if (self == NULL)
    return NULL;
  if ((self->lock = PyThread_allocate_lock ()) == NULL) {
    Py_DECREF (self);
    return PyErr_NoMemory ();
  }
  self->return_dict = 1;
  self->close_on_exit = 1;
  return (PyObject *) self;
}

/* GuestFS(python_return_dict=True, environment=True, close_on_exit=True):
 * the keywords of libguestfs's binding.  environment=False is refused,
 * as guestfs_create always reads the LIBGUESTFS_* variables. */
static int
handle_init (struct gp_handle *self, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = { "python_return_dict", "environment", "close_on_exit", NULL };
  int return_dict = 1, environment = 1, close_on_exit = 1;
  guestfs_h *g;

  if (!PyArg_ParseTupleAndKeywords (args, kw, "|ppp:GuestFS", kwlist,
                                    &return_dict, &environment, &close_on_exit))
    return -1;
  if (!environment) {
    PyErr_SetString (PyExc_ValueError, "GuestFS: environment=False is not "
                     "supported: guestkit always reads its environment variables");
    return -1;
  }
  self->return_dict = return_dict;
  self->close_on_exit = close_on_exit;
  if (self->g)                  /* __init__ called again: keep the handle */
    return 0;
  if ((g = guestfs_create ()) == NULL) {
    PyErr_SetString (PyExc_RuntimeError, "guestfs_create: failed to create a handle");
    return -1;
  }
  guestfs_set_error_handler (g, NULL, NULL);   /* errors become exceptions */
  self->g = g;
  self->next = gp_open;
  if (gp_open)
    gp_open->prev = self;
  gp_open = self;
  return 0;
}

/* No other thread can be in a call: each holds a reference to self. */
static void
handle_dealloc (struct gp_handle *self)
{
  PyObject_GC_UnTrack (self);
  close_locked (self);
  Py_CLEAR (self->progress_cb);
  if (self->lock)
    PyThread_free_lock (self->lock);
  Py_TYPE (self)->tp_free ((PyObject *) self);
}

/* The callback may refer to the handle (a closure, a bound method): the
 * cycle collector sees that reference. */
static int
handle_traverse (struct gp_handle *self, visitproc visit, void *arg)
{
  Py_VISIT (self->progress_cb);
  return 0;
}

static int
handle_clear (struct gp_handle *self)
{
  Py_CLEAR (self->progress_cb);   /* progress_cb() then calls nothing */
  return 0;
}

PyObject *
gp_close (struct gp_handle *self, PyObject *unused)
{
  if (take (self, "close") == -1)
    return NULL;
  close_locked (self);
  gp_leave (self);
  Py_RETURN_NONE;
}

/* The C progress callback: runs in the thread of the call, which has
 * released the GIL; self is alive, as that call holds a reference. */
static void
progress_cb (guestfs_h *g, void *opaque, int proc_nr, int serial,
             uint64_t position, uint64_t total)
{
  struct gp_handle *self = opaque;
  PyGILState_STATE st = PyGILState_Ensure ();
  PyObject *cb = self->progress_cb, *r;

  if (cb) {
    Py_INCREF (cb);
    r = PyObject_CallFunction (cb, "iiKK", proc_nr, serial,
                               (unsigned long long) position, (unsigned long long) total);
    if (r == NULL)
      PyErr_WriteUnraisable (cb);   /* the transfer goes on */
    Py_XDECREF (r);
    Py_DECREF (cb);
  }
  PyGILState_Release (st);
}

PyObject *
gp_set_progress_callback (struct gp_handle *self, PyObject *args, PyObject *kw)
{
  static char *kwlist[] = { "cb", NULL };
  PyObject *cb;
  guestfs_h *g;

  if (!PyArg_ParseTupleAndKeywords (args, kw, "O:set_progress_callback", kwlist, &cb))
    return NULL;
  if (cb != Py_None && !PyCallable_Check (cb))
    return PyErr_Format (PyExc_TypeError, "set_progress_callback() argument 'cb' "
                         "must be callable or None, not %s", Py_TYPE (cb)->tp_name);
  if ((g = gp_enter (self, "set_progress_callback")) == NULL)
    return NULL;
  Py_XSETREF (self->progress_cb, cb == Py_None ? NULL : Py_NewRef (cb));
  guestfs_set_progress_callback (g, self->progress_cb ? progress_cb : NULL, self);
  gp_leave (self);
  Py_RETURN_NONE;
}

PyObject *
gp_enter_ctx (struct gp_handle *self, PyObject *unused)
{
  if (self->g == NULL)
    return PyErr_Format (gp_closed_error, "__enter__: called on a closed handle");
  Py_INCREF (self);
  return (PyObject *) self;
}

PyObject *
gp_exit_ctx (struct gp_handle *self, PyObject *args)
{
  PyObject *r = gp_close (self, NULL);

  if (r == NULL)
    return NULL;
  Py_DECREF (r);
  Py_RETURN_FALSE;              /* exceptions from the block propagate */
}

/* GuestFS._o: the C handle as a PyCapsule named "guestfs_h", as in
 * libguestfs's binding, for C code working on the same handle (the
 * bench's C loop); None once closed.  Not valid after close. */
static PyObject *
handle_get_o (struct gp_handle *self, void *unused)
{
  if (self->g == NULL)
    Py_RETURN_NONE;
  return PyCapsule_New (self->g, "guestfs_h", NULL);
}

static PyGetSetDef handle_getset[] = {
  { "_o", (getter) handle_get_o, NULL, "the C handle (a PyCapsule), or None once closed", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject gp_handle_type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "guestfs.GuestFS",
  .tp_doc = PyDoc_STR ("GuestFS(python_return_dict=True, environment=True, "
                       "close_on_exit=True)\n\nA guestkit handle: an appliance "
                       "that works on disk images.  Each call of the C API "
                       "guestfs_NAME is the method NAME."),
  .tp_basicsize = sizeof (struct gp_handle),
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
  .tp_traverse = (traverseproc) handle_traverse,
  .tp_clear = (inquiry) handle_clear,
  .tp_new = handle_new,
  .tp_init = (initproc) handle_init,
  .tp_dealloc = (destructor) handle_dealloc,
  .tp_methods = gp_methods,
  .tp_getset = handle_getset,
};

/* ---- The module ---- */

/* atexit: close the handles made with close_on_exit, as libguestfs's
 * binding does, so their appliances shut down before the interpreter
 * goes.  A handle in a call in another thread is left to the library's
 * own exit handler. */
static PyObject *
close_all (PyObject *module, PyObject *unused)
{
  struct gp_handle *h = gp_open, *next;

  for (; h; h = next) {
    next = h->next;
    if (!h->close_on_exit || !PyThread_acquire_lock (h->lock, NOWAIT_LOCK))
      continue;
    __atomic_store_n (&h->owner, PyThread_get_thread_ident (), __ATOMIC_RELAXED);
    Py_INCREF (h);
    close_locked (h);
    gp_leave (h);
    next = gp_open;             /* the list may have changed meanwhile */
    Py_DECREF (h);
  }
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
  { "_close_all", close_all, METH_NOARGS, "Close the handles made with close_on_exit." },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef gp_module = {
  PyModuleDef_HEAD_INIT,
  .m_name = "guestfs",
  .m_doc = "guestkit's Python binding, compatible with libguestfs's for the "
           "calls guestkit has.",
  .m_size = -1,
  .m_methods = module_methods,
};

static int
register_atexit (PyObject *module)
{
  PyObject *atexit = PyImport_ImportModule ("atexit");
  PyObject *fn = atexit ? PyObject_GetAttrString (module, "_close_all") : NULL;
  PyObject *r = fn ? PyObject_CallMethod (atexit, "register", "O", fn) : NULL;

  Py_XDECREF (atexit);
  Py_XDECREF (fn);
  Py_XDECREF (r);
  return r ? 0 : -1;
}

PyMODINIT_FUNC PyInit_guestfs (void);

PyMODINIT_FUNC
PyInit_guestfs (void)
{
  PyObject *m;

  if (PyType_Ready (&gp_handle_type) < 0 || (m = PyModule_Create (&gp_module)) == NULL)
    return NULL;
  gp_closed_error = PyErr_NewExceptionWithDoc (
    "guestfs.ClosedHandle", "A method was called on a closed GuestFS handle.",
    PyExc_ValueError, NULL);
  if (gp_closed_error == NULL ||
      PyModule_AddObjectRef (m, "ClosedHandle", gp_closed_error) < 0 ||
      PyModule_AddObjectRef (m, "GuestFS", (PyObject *) &gp_handle_type) < 0 ||
      register_atexit (m) == -1) {
    Py_DECREF (m);
    return NULL;
  }
  return m;
}
