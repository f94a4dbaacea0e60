#!/usr/bin/python3
"""Generate the methods of the guestfs Python module from the action table.

Reads schemas/actions.tsv and schemas/structs.tsv through schemas/generate.py
(its load(), so both generators see the same table) and writes one C file:
every call as a method of guestfs.GuestFS, a dict converter for each
returned struct, and the method table.  The hand-written part, argument
and result conversion and the handle type, is python/guestfs.c.

The output is a build product (not in git): make regenerates it whenever
the tables or the generators change.

Usage: generate-py.py TOPDIR OUTPUT
"""
import os
import sys

sys.dont_write_bytecode = True
TOP = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, os.path.join(TOP, "schemas"))
import generate as gen  # noqa: E402  (schemas/generate.py)

PY_TYPE = {
    "RErr": "None", "RInt": "int", "RInt64": "int", "RBool": "bool",
    "RConstString": "str", "RConstOptString": "str or None", "RString": "str",
    "RStringList": "list of str", "RHashtable": "dict", "RBufferOut": "bytes",
    "RStruct": "dict", "RStructList": "list of dict",
}

# How each struct field type becomes a Python value; {f} is the C field.
FIELD_PY = {
    "String": "gp_str ({f})",
    "UUID": "gp_mem ({f}, 32)",
    "Bytes": "PyLong_FromUnsignedLongLong ({f})",
    "Int64": "PyLong_FromLongLong ({f})",
    "Int32": "PyLong_FromLong ({f})",
    "UInt32": "PyLong_FromUnsignedLong ({f})",
    "Char": "gp_mem (&{f}, 1)",
    "OptPercent": "gp_optpercent ({f})",
    "Buffer": "PyBytes_FromStringAndSize ({f}, {f}_len)",
}


def py_name(n):
    """The keyword name of an argument: the table's, without the _ that
    generate.py adds to C++ keywords."""
    if n.endswith("_") and n[:-1] in gen.CXX_KEYWORDS:
        return n[:-1]
    return n


def optargs(a):
    """The (name, type) optional arguments of a HandWritten call's
    "OptArgs name:Type ..." flag; they go through guestfs_NAME_argv."""
    for f in a.flags:
        if f.startswith("OptArgs "):
            return [tuple(x.split(":")) for x in f.split()[1:]]
    return None


class Conv:
    """Converting the arguments of one method: counts the objects kept
    alive (keep[]) and the string list arrays (lists[]) the call uses."""

    def __init__(self, call):
        self.call = call
        self.nkeep = 0
        self.nlists = 0

    def arg(self, t, n, target, indent="  "):
        """Lines converting PyObject py_N into target (a C lvalue), and the
        C expression to pass to the call."""
        q = '"%s", "%s", py_%s' % (self.call, py_name(n), n)
        expr = target
        if t in gen.STRING_ARGS:
            opt = 1 if t == "OptString" else 0
            conv = "gp_arg_str (%s, %d, &%s, &keep[%d])" % (q, opt, target, self.nkeep)
            self.nkeep += 1
        elif t == "BufferIn":
            expr = "%s, %s_size" % (target, target)
            conv = "gp_arg_buf (%s, &%s, &%s_size, &keep[%d])" % (q, target, target, self.nkeep)
            self.nkeep += 1
        elif t in ("StringList", "DeviceList"):
            expr = "lists[%d]" % self.nlists
            conv = "gp_arg_strlist (%s, &%s, &keep[%d])" % (q, expr, self.nkeep)
            self.nkeep += 1
            self.nlists += 1
        elif t == "Bool":
            conv = "gp_arg_bool (%s, &%s)" % (q, target)
        else:
            lim = "INT_MIN, INT_MAX" if t == "Int" else "INT64_MIN, INT64_MAX"
            conv = "gp_arg_integer (%s, %s, &%s)" % (q, lim, target)
        return [indent + "if (%s == -1)" % conv, indent + "  goto out;"], expr


def c_local(t, n):
    if t == "BufferIn":
        return "const char *a_%s = NULL; size_t a_%s_size = 0;" % (n, n)
    if t in gen.STRING_ARGS:
        return "const char *a_%s = NULL;" % n
    if t in ("StringList", "DeviceList"):
        return None
    if t in ("Int", "Int64"):
        return "long long a_%s = 0;" % n     # range-checked for its C type
    return "int a_%s = 0;" % n


def ret_decl(a):
    k = a.retkind
    if k in ("RErr", "RInt", "RBool"):
        return "int r;"
    if k == "RInt64":
        return "int64_t r;"
    if k in ("RConstString", "RConstOptString"):
        return "const char *r;"
    if k == "RBufferOut":
        return "char *r;\n  size_t size = 0;"
    ret = a.c_ret()
    return ret + ("r;" if ret.endswith("*") else " r;")


def ret_code(a):
    """Lines turning r into py_r (GIL and handle held), freeing r."""
    k = a.retkind
    fail = "r == -1" if a.err_value() == "-1" else "r == NULL"
    o = []
    if k == "RConstOptString":
        o.append("  py_r = gp_str (r);     /* NULL is an answer: None */")
        return o
    o.append("  if (%s)" % fail)
    o.append('    gp_raise (g, "%s");' % a.name)
    o.append("  else {")
    conv = {
        "RErr": "Py_NewRef (Py_None)", "RInt": "PyLong_FromLong (r)",
        "RBool": "PyBool_FromLong (r)", "RInt64": "PyLong_FromLongLong (r)",
        "RConstString": "gp_str (r)", "RString": "gp_str (r)",
        "RStringList": "gp_strlist (r)", "RHashtable": "gp_hash (self, r)",
        "RBufferOut": "PyBytes_FromStringAndSize (r, (Py_ssize_t) size)",
        "RStruct": "gp_struct_%s (r)" % a.struct,
        "RStructList": "gp_list_%s (r)" % a.struct,
    }[k]
    o.append("    py_r = %s;" % conv)
    free = {
        "RString": "free (r);", "RBufferOut": "free (r);",
        "RStringList": "gp_free_strings (r);", "RHashtable": "gp_free_strings (r);",
        "RStruct": "guestfs_free_%s (r);" % a.struct,
        "RStructList": "guestfs_free_%s_list (r);" % a.struct,
    }.get(k)
    if free:
        o.append("    " + free)
    o.append("  }")
    return o


def cstr(text):
    """text as a C string literal."""
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def docstring(a, opts):
    """The method's docstring, opening with the text signature that
    inspect.signature and help() read."""
    ps = ["$self"] + [py_name(n) for _, n in a.args]
    if opts:
        ps += ["*"] + ["%s=None" % n for n, _ in opts]
    s = "%s(%s)\n--\n\n" % (a.name, ", ".join(ps))
    s += a.summary[0].upper() + a.summary[1:] + ". Returns %s." % PY_TYPE[a.retkind]
    if a.status != "done":
        s += " Not supported yet: raises RuntimeError."
    if "R" in a.states and a.states != "*":
        s += " Needs a launched handle."
    if opts:
        s += " The optional arguments are keywords; None means not given."
    return cstr(s)


def gen_method(a):
    opts = optargs(a)
    if a.handwritten and opts is None:
        return None, None               # no generic form: not offered
    cv = Conv(a.name)
    noargs = not a.args and not opts
    o = ["", "static PyObject *"]
    if noargs:
        o.append("m_%s (struct gp_handle *self, PyObject *unused)" % a.name)
    else:
        o.append("m_%s (struct gp_handle *self, PyObject *args, PyObject *kw)" % a.name)
    o.append("{")
    body = []
    conv = []
    callargs = ["g"]
    for t, n in a.args:
        loc = c_local(t, n)
        if loc:
            body.append("  " + loc)
        lines, expr = cv.arg(t, n, "a_%s" % n)
        conv += lines
        callargs.append(expr)
    for n, t in opts or []:
        body.append("  PyObject *py_%s = NULL;" % n)
    if opts:
        body.append("  struct guestfs_%s_argv optargs = { 0 };" % a.name)
        callargs.append("&optargs")
    for n, t in opts or []:             # None or left out: not given
        conv.append("  if (py_%s != NULL && py_%s != Py_None) {" % (n, n))
        conv.append("    optargs.bitmask |= GUESTFS_%s_%s_BITMASK;" % (a.name.upper(), n.upper()))
        conv += cv.arg(t, n, "optargs.%s" % n, "    ")[0]
        conv.append("  }")
    allnames = [n for _, n in a.args] + [n for n, _ in opts or []]
    fmt = "O" * len(a.args) + ("|$" + "O" * len(opts) if opts else "")
    parse = []
    if not noargs:
        kws = ['"%s"' % py_name(n) for n in allnames] + ["NULL"]
        o.append("  static char *kwlist[] = { %s };" % ", ".join(kws))
        o += ["  PyObject *py_%s;" % n for _, n in a.args]
        parse = ['  if (!PyArg_ParseTupleAndKeywords (args, kw, "%s:%s", kwlist, %s))' % (
                     fmt, a.name, ", ".join("&py_%s" % n for n in allnames)),
                 "    return NULL;"]
    o += body
    nkeep, nlists = max(cv.nkeep, 1), max(cv.nlists, 1)
    o.append("  PyObject *keep[%d] = { NULL };" % nkeep)
    o.append("  char **lists[%d] = { NULL };" % nlists)
    o.append("  PyObject *py_r = NULL;")
    o.append("  guestfs_h *g;")
    o.append("  " + ret_decl(a))
    o.append("")
    o += parse
    o += conv
    if a.retkind == "RBufferOut":
        callargs.append("&size")
    fn = "guestfs_%s_argv" % a.name if opts else "guestfs_%s" % a.name
    o.append('  if ((g = gp_enter (self, "%s")) == NULL)' % a.name)
    o.append("    goto out;")
    o.append("  Py_BEGIN_ALLOW_THREADS")
    o.append("  r = %s (%s);" % (fn, ", ".join(callargs)))
    o.append("  Py_END_ALLOW_THREADS")
    o += ret_code(a)
    o.append("  gp_leave (self);")
    o.append(" out:")
    o.append("  gp_drop (keep, %d, lists, %d);" % (nkeep, nlists))
    o.append("  return py_r;")
    o.append("}")
    flags = "METH_NOARGS" if noargs else "METH_VARARGS | METH_KEYWORDS"
    entry = '  { "%s", (PyCFunction) (void (*) (void)) m_%s, %s,\n    %s },' % (
        a.name, a.name, flags, docstring(a, opts))
    return o, entry


def gen_struct(name, fields, single, listed):
    o = []
    if single or listed:
        o += ["", "static PyObject *",
              "gp_struct_%s (const struct guestfs_%s *s)" % (name, name), "{",
              "  PyObject *d = PyDict_New ();", "",
              "  if (d == NULL)", "    return NULL;"]
        puts = ['gp_put (d, "%s", %s) == -1' % (fn, FIELD_PY[ft].format(f="s->" + fn))
                for fn, ft in fields]
        o.append("  if (" + " ||\n      ".join(puts) + ")")
        o.append("    Py_CLEAR (d);")
        o.append("  return d;")
        o.append("}")
    if listed:
        o += ["", "static PyObject *",
              "gp_list_%s (const struct guestfs_%s_list *l)" % (name, name), "{",
              "  PyObject *list = PyList_New (l->len);", "",
              "  for (uint32_t i = 0; list && i < l->len; i++) {",
              "    PyObject *d = gp_struct_%s (&l->val[i]);" % name,
              "    if (d == NULL)", "      Py_CLEAR (list);", "    else",
              "      PyList_SET_ITEM (list, i, d);", "  }",
              "  return list;", "}"]
    return o


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: generate-py.py TOPDIR OUTPUT")
    out = sys.argv[2]
    actions, structs = gen.load(TOP)
    single = {a.struct for a in actions if a.retkind == "RStruct"}
    listed = {a.struct for a in actions if a.retkind == "RStructList"}
    o = ["/* %s; by python/generate-py.py */" % gen.DONOTEDIT.replace("schemas/generate.py", "python/generate-py.py"),
         "/* Every call of the action table as a method of guestfs.GuestFS.  See",
         " * python/guestfs-py.h for the helpers each method uses. */",
         "#include <limits.h>", "#include \"guestfs-py.h\""]
    for name, fields in structs.items():
        o += gen_struct(name, fields, name in single, name in listed)
    entries = []
    for a in actions:
        code, entry = gen_method(a)
        if code:
            o += code
            entries.append(entry)
    o += ["", "PyMethodDef gp_methods[] = {"] + entries
    o += ['  { "close", (PyCFunction) (void (*) (void)) gp_close, METH_NOARGS,',
          '    "close() -> None\\n\\nShut the appliance down and free the handle; '
          'later calls raise ClosedHandle.  Closing twice is harmless." },',
          '  { "set_progress_callback", (PyCFunction) (void (*) (void)) gp_set_progress_callback,',
          '    METH_VARARGS | METH_KEYWORDS, "set_progress_callback($self, cb)\\n--\\n\\n'
          'Call cb(proc_nr, serial, position, total) after each chunk of a file '
          'transfer (upload, download, tar_in, ...), in the calling thread; '
          'total is 0 when unknown.  None removes it.  An exception in cb is '
          'reported and the transfer goes on; cb may not use this handle." },',
          '  { "__enter__", (PyCFunction) (void (*) (void)) gp_enter_ctx, METH_NOARGS, NULL },',
          '  { "__exit__", (PyCFunction) (void (*) (void)) gp_exit_ctx, METH_VARARGS, NULL },',
          "  { NULL, NULL, 0, NULL }", "};"]
    text = "\n".join(o) + "\n"
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, out)


if __name__ == "__main__":
    main()
