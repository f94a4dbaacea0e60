/* runner/shell-call.c: one call of the generated table run by `guestkit
 * shell' (shell.c) from its words: each word converted by the argument's
 * type (see shell.c's header), a FileOut "-" drained to stdout by a
 * thread, the appliance launched first when drives were given and the
 * call needs it, and the result printed as guestfish prints it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

/* ---- Results ---- */

static void
print_bytes (const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      putchar (c);
    else
      printf ("\\x%02x", c);
  }
}

static void
print_field (const struct rn_field *f, const char *base, const char *indent)
{
  const char *p = base + f->offset;

  printf ("%s%s: ", indent, f->name);
  switch (f->type) {
  case RN_F_STRING: fputs (*(char *const *) p, stdout); break;
  case RN_F_UUID: fwrite (p, 1, 32, stdout); break;
  case RN_F_BYTES: printf ("%llu", (unsigned long long) *(const uint64_t *) p); break;
  case RN_F_INT64: printf ("%lld", (long long) *(const int64_t *) p); break;
  case RN_F_INT32: printf ("%d", (int) *(const int32_t *) p); break;
  case RN_F_UINT32: printf ("%u", (unsigned) *(const uint32_t *) p); break;
  case RN_F_CHAR: putchar (*p); break;
  case RN_F_OPTPERCENT:
    if (*(const float *) p >= 0)
      printf ("%g%%", (double) *(const float *) p);
    break;
  case RN_F_BUFFER:
    print_bytes (*(char *const *) p, *(const uint32_t *) (base + f->len_offset));
    break;
  }
  putchar ('\n');
}

static void
print_struct (const struct rn_struct *s, const char *p, const char *indent)
{
  for (int i = 0; i < s->nfields; i++)
    print_field (&s->fields[i], p, indent);
}

/* Every guestfs_NAME_list is { uint32_t len; struct guestfs_NAME *val; }. */
struct any_list {
  uint32_t len;
  char *val;
};

static void
print_ret (const struct rn_ret *r)
{
  const struct rn_struct *s = r->struct_index >= 0 ? &rn_structs[r->struct_index] : NULL;

  switch (r->type) {
  case RN_RET_ERR: break;
  case RN_RET_INT: printf ("%d\n", r->v.i); break;
  case RN_RET_INT64: printf ("%lld\n", (long long) r->v.i64); break;
  case RN_RET_BOOL: puts (r->v.i ? "true" : "false"); break;
  case RN_RET_CONSTSTRING:
  case RN_RET_CONSTOPTSTRING: puts (r->v.cs ? r->v.cs : "(null)"); break;
  case RN_RET_STRING: puts (r->v.s); break;
  case RN_RET_STRINGLIST:
    for (size_t i = 0; r->v.sl[i]; i++)
      puts (r->v.sl[i]);
    break;
  case RN_RET_HASHTABLE:
    for (size_t i = 0; r->v.sl[i] && r->v.sl[i + 1]; i += 2)
      printf ("%s: %s\n", r->v.sl[i], r->v.sl[i + 1]);
    break;
  case RN_RET_BUFFEROUT: fwrite (r->v.s, 1, r->size, stdout); break;
  case RN_RET_STRUCT: print_struct (s, r->v.p, ""); break;
  case RN_RET_STRUCTLIST: {
    const struct any_list *l = r->v.p;
    for (uint32_t i = 0; i < l->len; i++) {
      printf ("[%u] = {\n", i);
      print_struct (s, l->val + (size_t) i * s->size, "  ");
      printf ("}\n");
    }
    break;
  }
  }
}

/* ---- FileOut "-": a pipe drained to stdout by a thread ----
 * The library writes a FileOut into a regular file by way of a temp file
 * renamed into place, and opens anything else directly; a pipe is always
 * "anything else", whatever stdout is. */

struct pump {
  int fds[2];                /* read end (the thread's), write end */
  pthread_t thread;
  char path[32];             /* /dev/fd/N of the write end */
};

static void *
pump_run (void *arg)
{
  struct pump *p = arg;
  char buf[65536];
  ssize_t n;
  int out_ok = 1;

  while ((n = read (p->fds[0], buf, sizeof buf)) != 0) {
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      break;
    for (ssize_t off = 0; out_ok && off < n;) {
      ssize_t w = write (STDOUT_FILENO, buf + off, (size_t) (n - off));
      if (w == -1 && errno == EINTR)
        continue;
      if (w <= 0)
        out_ok = 0;            /* keep draining, or the library would block */
      else
        off += w;
    }
  }
  return NULL;
}

static int
pump_start (struct rn_shell *sh, struct pump *p)
{
  if (pipe2 (p->fds, O_CLOEXEC) == -1) {
    rn_sh_err (sh, "pipe: %s", strerror (errno));
    return -1;
  }
  fflush (stdout);
  if ((errno = pthread_create (&p->thread, NULL, pump_run, p)) != 0) {
    rn_sh_err (sh, "pthread_create: %s", strerror (errno));
    close (p->fds[0]);
    close (p->fds[1]);
    return -1;
  }
  snprintf (p->path, sizeof p->path, "/dev/fd/%d", p->fds[1]);
  return 0;
}

static void
pump_end (struct pump *p)
{
  close (p->fds[1]);
  pthread_join (p->thread, NULL);
  close (p->fds[0]);
}

/* ---- Arguments ---- */

/* A Bool word: true/false, yes/no, on/off (as in job files), or 1/0. */
int
rn_sh_parse_bool (const char *w)
{
  int b = rn_parse_bool (w);
  if (b == -1 && (strcmp (w, "1") == 0 || strcmp (w, "0") == 0))
    b = w[0] == '1';
  return b;
}

struct args {
  union rn_argval *v;        /* c->nargs values */
  struct rn_strv *lists;     /* StringList storage, per argument */
  struct pump pump;
  int pumping;               /* a FileOut goes to stdout */
};

static void
split_list (const char *w, struct rn_strv *l)
{
  const char *p = w;

  rn_strv_add (l, NULL);               /* an empty list is still a list */
  l->n = 0;
  while (*p) {
    size_t n;
    p += strspn (p, " \t\r\n");
    n = strcspn (p, " \t\r\n");
    if (n)
      rn_strv_add (l, rn_strndup (p, n));
    p += n;
  }
}

static int
int_arg (struct rn_shell *sh, const struct rn_call *c, const struct rn_arg *a,
         const char *w, union rn_argval *v)
{
  char b[64];
  int64_t x;

  if (rn_parse_int (w, &x) == -1) {
    rn_sh_err (sh, "%s: %s: expected %s (decimal, 0x hex or 0 octal), got '%s'",
            c->name, a->name, a->type == RN_ARG_INT ? "an integer" : "a 64-bit integer",
            rn_sh_shorten (w, b, sizeof b));
    return -1;
  }
  if (a->type == RN_ARG_INT64) {
    v->i64 = x;
    return 0;
  }
  if (x < INT32_MIN || x > INT32_MAX) {
    rn_sh_err (sh, "%s: %s: %s is out of range (%d to %d)", c->name, a->name,
            rn_sh_shorten (w, b, sizeof b), INT32_MIN, INT32_MAX);
    return -1;
  }
  v->i = (int) x;
  return 0;
}

static int
one_arg (struct rn_shell *sh, const struct rn_call *c, int i, const char *w, struct args *a)
{
  const struct rn_arg *arg = &c->args[i];
  char b[64];

  switch (arg->type) {
  case RN_ARG_BOOL:
    if ((a->v[i].i = rn_sh_parse_bool (w)) == -1) {
      rn_sh_err (sh, "%s: %s: expected true or false (yes/no, on/off, 1/0), got '%s'",
              c->name, arg->name, rn_sh_shorten (w, b, sizeof b));
      return -1;
    }
    return 0;
  case RN_ARG_INT:
  case RN_ARG_INT64:
    return int_arg (sh, c, arg, w, &a->v[i]);
  case RN_ARG_STRINGLIST:
  case RN_ARG_DEVICELIST:
    split_list (w, &a->lists[i]);
    a->v[i].sl = a->lists[i].v;
    return 0;
  case RN_ARG_OPTSTRING:
    a->v[i].s = *w ? w : NULL;
    return 0;
  case RN_ARG_BUFFERIN:        /* the word's bytes, without its NUL */
    a->v[i].b.buf = w;
    a->v[i].b.len = strlen (w);
    return 0;
  case RN_ARG_FILEIN:
    a->v[i].s = strcmp (w, "-") == 0 ? "/dev/stdin" : w;
    return 0;
  case RN_ARG_FILEOUT:
    if (strcmp (w, "-") != 0) {
      a->v[i].s = w;
      return 0;
    }
    if (pump_start (sh, &a->pump) == -1)
      return -1;
    a->pumping = 1;
    a->v[i].s = a->pump.path;
    return 0;
  default:
    a->v[i].s = w;
    return 0;
  }
}

static void
args_free (const struct rn_call *c, struct args *a)
{
  for (int i = 0; i < c->nargs; i++)
    rn_strv_free (&a->lists[i]);
  free (a->lists);
  free (a->v);
  if (a->pumping)
    pump_end (&a->pump);
}

/* ---- Running a call ---- */

int
rn_sh_launch (struct rn_shell *sh)
{
  return guestfs_launch (sh->g);
}

int
rn_sh_need_appliance (struct rn_shell *sh)
{
  if (sh->ndrives == 0 || guestfs_is_config (sh->g) != 1)
    return 0;
  return rn_sh_launch (sh);
}

/* With drives given, launch before the first call that needs the
 * appliance. */
static int
auto_launch (struct rn_shell *sh, const struct rn_call *c)
{
  if (sh->ndrives == 0 || (c->states & RN_ST_CONFIG) || !(c->states & RN_ST_READY) ||
      guestfs_is_config (sh->g) != 1)
    return 0;
  return rn_sh_launch (sh);
}

int
rn_sh_run_call (struct rn_shell *sh, const struct rn_call *c, char **w, size_t n)
{
  struct args a = { rn_calloc ((size_t) c->nargs, sizeof *a.v),
                    rn_calloc ((size_t) c->nargs, sizeof *a.lists), { { -1, -1 }, 0, "" }, 0 };
  struct rn_ret ret;
  int r = -1;

  for (int i = 0; i < c->nargs; i++)
    if (one_arg (sh, c, i, w[i + 1], &a) == -1)
      goto out;
  if (auto_launch (sh, c) == -1)
    goto out;
  fflush (stdout);
  r = rn_call_invoke (c, sh->g, a.v, &ret);
  rn_sh_progress_done ();
  if (r == -1)
    goto out;
  if (a.pumping) {                      /* its bytes before the result's */
    pump_end (&a.pump);
    a.pumping = 0;
  }
  print_ret (&ret);
  rn_ret_free (&ret);
  if (strncmp (c->name, "add_", 4) == 0)
    sh->ndrives++;
  r = 0;
 out:
  args_free (c, &a);
  return r;
}
