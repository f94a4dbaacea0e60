/* core/drives.c: adding disk images to a handle before launch.
 *
 * The format of an image is whatever the caller says (raw by default) and
 * is never guessed from the image's bytes: a raw image that starts with a
 * qcow2 header stays raw, so it cannot make qemu open a file it names.
 *
 * An image in a format that can name other files (a qcow2 backing file or
 * external data file, a vmdk extent, ...) is inspected on the host before
 * it is accepted: qcow2, qcow and qed with `qemu-img info', qemu's own
 * parser, on the opened file (which opens no other file); vmdk by reading
 * its header here (qemu-img would open the extents).  If it names
 * any other file, qemu would open that host file and show it to the
 * guest, so it is refused unless the caller vouches for this one image
 * (add_drive_opts trust_backing=1, for overlays it made itself) or for
 * every image of the process (GUESTKIT_ALLOW_BACKING=1; see SECURITY.md).
 *
 * A trusted image's backing chain is handed to qemu as fds.  For the
 * common case, a qcow2 over a raw file named by an absolute path (the
 * runner's overlays), it is read from the qcow2 header here
 * (gk_header_chain); anything else is left to `qemu-img info
 * --backing-chain'.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk.h"

static const char *const known_formats[] = {
  "raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vpc", "vhdx", "parallels",
  "dmg", "bochs", "cloop", NULL,
};

int
gk_check_format (guestfs_h *g, const char *call, const char *format)
{
  for (size_t i = 0; known_formats[i]; i++)
    if (strcmp (format, known_formats[i]) == 0)
      return 0;
  gk_error (g, "%s: unknown disk format '%s' (use raw, qcow2, vmdk, vdi, "
            "vpc, vhdx, ...)", call, format);
  return -1;
}

/* Formats whose images may name other files that qemu opens on the host. */
static const char *const referring_formats[] = {
  "qcow2", "qcow", "qed", "vmdk", NULL,
};

static int
may_refer (const char *format)
{
  for (size_t i = 0; referring_formats[i]; i++)
    if (strcmp (format, referring_formats[i]) == 0)
      return 1;
  return 0;
}

#define INFO_MAX (1 << 20)        /* qemu-img's JSON, at most */
#define INFO_TIMEOUT 30.0         /* seconds */

/* Read what is there from *fd into buf (at most cap - 1 bytes kept,
 * NUL-terminated); at end of file close it and set -1. */
static void
collect (int *fd, char *buf, size_t cap, size_t *len)
{
  char junk[4096];
  ssize_t n = *len + 1 < cap ? read (*fd, buf + *len, cap - 1 - *len)
                             : read (*fd, junk, sizeof junk);

  if (n > 0 && *len + 1 < cap)
    buf[*len += (size_t) n] = '\0';
  if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN)) {
    close (*fd);
    *fd = -1;
  }
}

/* Run qemu-img with args (after the program name) and fd, if >= 0, as
 * its fd 3.  Returns its output (caller frees), or NULL with *err set
 * (caller frees). */
static char *
run_qemu_img (guestfs_h *g, int fd, const char *const *args, char **err)
{
  char *out = gk_calloc (g, INFO_MAX + 1, 1), msg[512] = "";
  size_t len = 0, mlen = 0;
  int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0, timedout = 0;
  double deadline = gk_now () + INFO_TIMEOUT;
  pid_t pid = -1;

  if (pipe2 (po, O_CLOEXEC) == -1 || pipe2 (pe, O_CLOEXEC) == -1 ||
      (pid = fork ()) == -1) {
    *err = gk_asprintf (g, "qemu-img: %s", strerror (errno));
    for (int i = 0; i < 2; i++) {
      if (po[i] >= 0) close (po[i]);
      if (pe[i] >= 0) close (pe[i]);
    }
    free (out);
    return NULL;
  }
  if (pid == 0) {
    int img = fd >= 0 ? fcntl (fd, F_DUPFD_CLOEXEC, 10) : -1;   /* out of the way of 1, 2, 3 */
    dup2 (po[1], 1);
    dup2 (pe[1], 2);
    if (img >= 0)
      dup2 (img, 3);
    execvp ("qemu-img", (char *const *) args);
    dprintf (2, "cannot run qemu-img: %s", strerror (errno));
    _exit (127);
  }
  close (po[1]);
  close (pe[1]);
  while (po[0] >= 0 || pe[0] >= 0) {
    struct pollfd p[2] = { { .fd = po[0], .events = POLLIN },
                           { .fd = pe[0], .events = POLLIN } };
    int left = (int) ((deadline - gk_now ()) * 1000);
    if (left <= 0 || poll (p, 2, left) == 0 || len == INFO_MAX) {
      timedout = len < INFO_MAX;
      kill (pid, SIGKILL);
      break;
    }
    if (p[0].revents)
      collect (&po[0], out, INFO_MAX + 1, &len);
    if (p[1].revents)
      collect (&pe[0], msg, sizeof msg, &mlen);
  }
  if (po[0] >= 0) close (po[0]);
  if (pe[0] >= 0) close (pe[0]);
  waitpid (pid, &status, 0);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0 && len < INFO_MAX)
    return out;
  while (mlen > 0 && (msg[mlen - 1] == '\n' || msg[mlen - 1] == '\r'))
    msg[--mlen] = '\0';
  *err = timedout ? gk_asprintf (g, "qemu-img info took more than %.0f s", INFO_TIMEOUT)
       : len == INFO_MAX ? gk_strdup (g, "qemu-img info: too much output")
       : gk_strdup (g, mlen ? msg : "qemu-img info failed");
  free (out);
  return NULL;
}

/* `qemu-img info' on the image open at fd (as /proc/self/fd/3, so no
 * protocol prefix or comma in its name is interpreted, and what is
 * checked is the file that was opened).  The qcow2 data file is replaced
 * by a null device so that qemu-img does not open it either; backing
 * files are never opened by `info'. */
static char *
image_info (guestfs_h *g, int fd, const char *format, char **err)
{
  char *opts = gk_asprintf (g, "driver=%s,file.driver=file,"
                            "file.filename=/proc/self/fd/3%s", format,
                            strcmp (format, "qcow2") == 0 ?
                            ",data-file.driver=null-co" : "");
  const char *args[] = { "qemu-img", "info", "--output=json", "-U",
                         "--image-opts", opts, NULL };
  char *r = run_qemu_img (g, fd, args, err);

  free (opts);
  return r;
}

#define VMDK_DESC_MAX (64 * 1024)

static uint64_t
le64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* A vmdk is read here, never by qemu-img, which would open every extent
 * a descriptor names (a FIFO, a device, any host file) before we could
 * refuse it.  Only a sparse vmdk (one file, "KDMV" or "COWD" header) is
 * taken; its embedded descriptor must not name a parent.  Returns what
 * it names (NULL: nothing) or sets *err (caller frees). */
static const char *
vmdk_refers (guestfs_h *g, int fd, char **err)
{
  unsigned char h[512];
  char *desc;
  uint64_t off, len;
  ssize_t n = pread (fd, h, sizeof h, 0);
  const char *what = NULL;

  *err = NULL;
  if (n >= 4 && memcmp (h, "COWD", 4) == 0)
    return NULL;
  if (n < 44 || memcmp (h, "KDMV", 4) != 0) {
    if (n > 0 && (memchr (h, '=', (size_t) n) || h[0] == '#'))
      return "another file (an extent, named by a text descriptor)";
    *err = gk_strdup (g, "not a vmdk image (no sparse header or descriptor)");
    return NULL;
  }
  off = le64 (h + 28);
  len = le64 (h + 36);
  if (off == 0 || len == 0)
    return NULL;
  if (off > UINT64_MAX / 512 || len > VMDK_DESC_MAX / 512) {
    *err = gk_strdup (g, "corrupt vmdk header (descriptor out of range)");
    return NULL;
  }
  desc = gk_calloc (g, len * 512 + 1, 1);
  n = pread (fd, desc, len * 512, (off_t) (off * 512));
  if (n < 0)
    *err = gk_asprintf (g, "read: %s", strerror (errno));
  else if (strstr (desc, "parentFileNameHint"))
    what = "a backing file (parentFileNameHint)";
  free (desc);
  return what;
}

/* What in qemu-img's JSON names another file: a backing file, a qcow2
 * data file, or any "filename" (vmdk extents) but the image's own. */
static const char *
names_other_file (const char *json)
{
  static const char self[] = "\"filename\": \"/proc/self/fd/3\"";

  if (strstr (json, "\"backing-filename\""))
    return "a backing file";
  if (strstr (json, "\"data-file\""))
    return "an external data file";
  for (const char *p = json; (p = strstr (p, "\"filename\":")) != NULL; p++)
    if (strncmp (p, self, sizeof self - 1) != 0)
      return "another file (an extent)";
  return NULL;
}

/* The JSON string at *p (just past its opening quote), unescaped;
 * *p is left past the closing quote.  NULL for escapes we do not take. */
static char *
json_str (guestfs_h *g, const char **p)
{
  char *r = gk_malloc (g, strlen (*p) + 1), *o = r;
  const char *q = *p;

  for (; *q && *q != '"'; q++) {
    if (*q != '\\') {
      *o++ = *q;
      continue;
    }
    q++;
    if (*q == '"' || *q == '\\' || *q == '/')
      *o++ = *q;
    else if (*q == 'u' && strncmp (q, "u00", 3) == 0 && q[3] && q[4] &&
             strtol ((char[]) { q[3], q[4], 0 }, NULL, 16) > 0) {
      *o++ = (char) strtol ((char[]) { q[3], q[4], 0 }, NULL, 16);
      q += 4;
    } else {
      free (r);
      return NULL;
    }
  }
  *o = '\0';
  *p = *q ? q + 1 : q;
  return r;
}

/* From `qemu-img info --backing-chain' (an array of objects), the value
 * of `key' in each object, in order; NULL-terminated, caller frees. */
static char **
chain_values (guestfs_h *g, const char *json, const char *key, size_t *n)
{
  char **v = NULL;
  int depth = 0;

  *n = 0;
  for (const char *p = json; *p; ) {
    char c = *p++;
    if (c == '[' || c == '{') depth++;
    else if (c == ']' || c == '}') depth--;
    else if (c == '"') {
      const char *k = p;
      char *s = json_str (g, &p);
      int is_key = s && depth == 2 && strcmp (s, key) == 0 &&
                   strncmp (p, ": \"", 3) == 0;
      free (s);
      if (is_key) {
        p += 3;
        v = gk_realloc (g, v, (*n + 2) * sizeof *v);
        v[(*n)++] = json_str (g, &p);
        v[*n] = NULL;
        if (v[*n - 1] == NULL)
          break;
      } else if (s == NULL && k == p)
        break;
    }
  }
  return v;
}

/* A trusted image's backing chain as qemu-img finds it: each file below
 * it and its format.  qemu gets them as fds (launch.c). */
int
gk_qemu_img_chain (guestfs_h *g, const char *call, const char *filename,
                   const char *format, char ***chain, char ***formats)
{
  char *fn = gk_qemu_escape (g, filename), *err = NULL, *json;
  char *opts = gk_asprintf (g, "driver=%s,file.driver=file,file.filename=%s",
                            format, fn);
  const char *args[] = { "qemu-img", "info", "--backing-chain", "--output=json",
                         "-U", "--image-opts", opts, NULL };
  size_t nf, nt;
  int r = 0;

  json = run_qemu_img (g, -1, args, &err);
  free (fn);
  free (opts);
  if (json == NULL) {
    gk_error (g, "%s: %s: cannot read its backing chain: %s", call, filename, err);
    free (err);
    return -1;
  }
  *chain = chain_values (g, json, "filename", &nf);
  *formats = chain_values (g, json, "format", &nt);
  free (json);
  if (nf == 0 || nf != nt || (*chain)[nf - 1] == NULL || (*formats)[nt - 1] == NULL) {
    gk_error (g, "%s: %s: cannot read its backing chain", call, filename);
    r = -1;
  }
  for (size_t i = 1; r == 0 && i < nt; i++)
    if (gk_check_format (g, call, (*formats)[i]) == -1 ||
        strcmp ((*formats)[i], "vmdk") == 0) {
      gk_error (g, "%s: %s: backing file %s has format %s, not taken",
                call, filename, (*chain)[i], (*formats)[i]);
      r = -1;
    }
  return r;
}

static int
image_file (int fd, struct stat *st)
{
  return fstat (fd, st) == 0 && (S_ISREG (st->st_mode) || S_ISBLK (st->st_mode));
}

/* The common case of a trusted image, the runner's overlay: a qcow2
 * version 3 with no incompatible feature, encryption, data file or
 * unknown extension, whose backing file is a raw regular file or block
 * device named by an absolute path (so no protocol prefix and no
 * directory to resolve it from).  Its chain is then known from its
 * header, as qemu-img would report it. */
int
gk_header_chain (guestfs_h *g, const char *filename, const char *format,
                 char ***chain, char ***formats)
{
  struct gk_qcow2 q;
  struct stat st;
  const char *why;
  int fd, ok;

  *chain = *formats = NULL;
  if (strcmp (format, "qcow2") != 0 ||
      (fd = open (filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
    return 0;
  ok = image_file (fd, &st) && gk_qcow2_read (g, fd, &q, &why) == 0;
  close (fd);
  if (!ok)
    return 0;
  ok = q.version == 3 && q.incompat == 0 && q.crypt == 0 && !q.data_file &&
       !q.other_ext && q.backing && strlen (q.backing) == q.backing_len &&
       q.backing[0] == '/' && q.backing_format &&
       strcmp (q.backing_format, "raw") == 0 &&
       (fd = open (q.backing, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) >= 0;
  if (ok) {
    ok = image_file (fd, &st);
    close (fd);
  }
  if (ok) {
    *chain = gk_calloc (g, 3, sizeof **chain);
    *formats = gk_calloc (g, 3, sizeof **formats);
    (*chain)[0] = gk_strdup (g, filename);
    (*chain)[1] = q.backing;
    q.backing = NULL;
    (*formats)[0] = gk_strdup (g, "qcow2");
    (*formats)[1] = gk_strdup (g, "raw");
  }
  gk_qcow2_free (&q);
  return ok;
}

/* A trusted image's backing chain: from its header when that is enough,
 * else from qemu-img. */
static int
trusted_chain (guestfs_h *g, const char *call, struct gk_drive *d)
{
  if (gk_header_chain (g, d->filename, d->format, &d->chain, &d->chain_formats)) {
    gk_debug (g, "%s: %s: backing chain from its qcow2 header: %s (raw)",
              call, d->filename, d->chain[1]);
    return 0;
  }
  return gk_qemu_img_chain (g, call, d->filename, d->format, &d->chain,
                            &d->chain_formats);
}

static int
check_references (guestfs_h *g, const char *call, const char *filename,
                  const char *format, int trusted)
{
  const char *what;
  char *json, *err = NULL;
  struct stat st;
  int fd;

  if (!may_refer (format) || trusted)
    return 0;
  fd = open (filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd == -1) {
    gk_perror (g, "%s: %s", call, filename);
    return -1;
  }
  if (fstat (fd, &st) == -1 || !(S_ISREG (st.st_mode) || S_ISBLK (st.st_mode))) {
    gk_error (g, "%s: %s: not a regular file or block device", call, filename);
    close (fd);
    return -1;
  }
  if (strcmp (format, "vmdk") == 0) {
    what = vmdk_refers (g, fd, &err);
    json = NULL;
  } else {
    json = image_info (g, fd, format, &err);
    what = json ? names_other_file (json) : NULL;
  }
  close (fd);
  free (json);
  if (err) {
    gk_error (g, "%s: %s: not a usable %s image (corrupt, or not in that "
              "format): %s", call, filename, format, err);
    free (err);
    return -1;
  }
  if (what) {
    gk_error (g, "%s: %s: the %s image names %s, which qemu would open on "
              "the host: refused (add_drive_opts trust_backing=1, or "
              "GUESTKIT_ALLOW_BACKING=1, allows it)",
              call, filename, format, what);
    return -1;
  }
  return 0;
}

/* The image must exist and be accessible the way it will be opened. */
static int
check_image (guestfs_h *g, const char *call, const char *filename, int ro)
{
  struct stat st;

  if (filename[0] == '\0') {
    gk_error (g, "%s: the file name is empty", call);
    return -1;
  }
  if (stat (filename, &st) == -1) {
    gk_perror (g, "%s: %s", call, filename);
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    gk_error (g, "%s: %s: is a directory, not a disk image", call, filename);
    return -1;
  }
  if (S_ISFIFO (st.st_mode) || S_ISSOCK (st.st_mode)) {
    gk_error (g, "%s: %s: is a FIFO or socket, not a disk image", call, filename);
    return -1;
  }
  if (access (filename, ro ? R_OK : R_OK | W_OK) == -1) {
    gk_perror (g, "%s: %s", call, filename);
    return -1;
  }
  return 0;
}

static int
add (guestfs_h *g, const char *call, const char *filename,
     const char *format, int readonly, int cdrom, int trusted)
{
  const char *allow = getenv ("GUESTKIT_ALLOW_BACKING");
  struct gk_drive *d;

  trusted |= allow && strcmp (allow, "1") == 0;
  if (check_image (g, call, filename, readonly) == -1 ||
      gk_check_format (g, call, format) == -1 ||
      check_references (g, call, filename, format, trusted) == -1)
    return -1;
  g->drives = gk_realloc (g, g->drives, (g->ndrives + 1) * sizeof *g->drives);
  d = &g->drives[g->ndrives++];
  memset (d, 0, sizeof *d);
  d->filename = gk_strdup (g, filename);
  d->format = gk_strdup (g, format);
  d->readonly = readonly;
  d->cdrom = cdrom;
  d->trusted = trusted;
  if (trusted && may_refer (format) && trusted_chain (g, call, d) == -1) {
    gk_drive_free (d);
    g->ndrives--;
    return -1;
  }
  return 0;
}

void
gk_drive_free (struct gk_drive *d)
{
  free (d->filename);
  free (d->format);
  for (size_t i = 0; d->chain && d->chain[i]; i++)
    free (d->chain[i]);
  for (size_t i = 0; d->chain_formats && d->chain_formats[i]; i++)
    free (d->chain_formats[i]);
  free (d->chain);
  free (d->chain_formats);
}

int
gk_impl_add_drive (guestfs_h *g, const char *filename)
{
  return add (g, "add_drive", filename, "raw", 0, 0, 0);
}

/* The 2009 semantics: the guest may write, the writes go to a
 * throw-away overlay (gk_make_overlay), the image is never written. */
int
gk_impl_add_drive_ro (guestfs_h *g, const char *filename)
{
  if (add (g, "add_drive_ro", filename, "raw", 1, 0, 0) == -1)
    return -1;
  g->drives[g->ndrives - 1].overlay = 1;
  return 0;
}

/* A new empty qcow2 file in the temp dir to take drive i's writes
 * (named NAMEi.qcow2): the size of the image open at fd (raw), no
 * backing file named in it (the image is attached as its backing node by
 * launch).  Written here (qcow2.c), not by qemu-img.  Returns its path
 * (caller frees), or NULL (error set). */
char *
gk_make_overlay (guestfs_h *g, const char *name, size_t i, int fd)
{
  off_t size = lseek (fd, 0, SEEK_END);
  char *file = gk_asprintf (g, "%s/%s%zu.qcow2", g->tmpdir, name, i);

  if (size < 0) {
    gk_perror (g, "launch: cannot make an overlay for drive %zu", i);
    free (file);
    return NULL;
  }
  if (gk_create_image (g, "launch: cannot make an overlay", file, "qcow2",
                       (uint64_t) size, NULL, NULL, 1) == -1) {
    free (file);
    return NULL;
  }
  return file;
}

int
gk_impl_add_cdrom (guestfs_h *g, const char *filename)
{
  return add (g, "add_cdrom", filename, "raw", 1, 1, 0);
}

int
guestfs_add_drive_opts_argv (guestfs_h *g, const char *filename,
                             const struct guestfs_add_drive_opts_argv *o)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_add_drive_opts];
  union gk_val args[1] = { { .s = (char *) filename } };
  const char *format = "raw";
  int readonly = 0, trusted = 0, r;

  if (gk_enter (g, a, args) == -1)
    return -1;
  if (o && (o->bitmask & ~(GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK |
                           GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK |
                           GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING_BITMASK))) {
    gk_error (g, "add_drive_opts: unknown option bits 0x%llx",
              (unsigned long long) o->bitmask);
    gk_leave (g, a, 1);
    return -1;
  }
  if (o && (o->bitmask & GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK)) {
    if (o->format == NULL) {
      gk_error (g, "add_drive_opts: format must not be NULL");
      gk_leave (g, a, 1);
      return -1;
    }
    format = o->format;
  }
  if (o && (o->bitmask & GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK))
    readonly = !!o->readonly;
  if (o && (o->bitmask & GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING_BITMASK))
    trusted = !!o->trust_backing;
  r = add (g, "add_drive_opts", filename, format, readonly, 0, trusted);
  gk_leave (g, a, r == -1);
  return r;
}

int
guestfs_add_drive_opts (guestfs_h *g, const char *filename, ...)
{
  struct guestfs_add_drive_opts_argv o = { 0 };
  va_list ap;
  int key;

  va_start (ap, filename);
  while ((key = va_arg (ap, int)) != -1) {
    switch (key) {
    case GUESTFS_ADD_DRIVE_OPTS_READONLY:
      o.readonly = va_arg (ap, int);
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
      break;
    case GUESTFS_ADD_DRIVE_OPTS_FORMAT:
      o.format = va_arg (ap, const char *);
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
      break;
    case GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING:
      o.trust_backing = va_arg (ap, int);
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING_BITMASK;
      break;
    default:
      va_end (ap);
      g->error_pending = 0;
      gk_error (g, "add_drive_opts: unknown option key %d", key);
      return -1;
    }
  }
  va_end (ap);
  return guestfs_add_drive_opts_argv (g, filename, &o);
}
