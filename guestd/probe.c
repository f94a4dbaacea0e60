/* guestd/probe.c: blkid, what libblkid finds on a block device, without
 * running a program.
 *
 *   blkid DEVICE  ->  TYPE ext4  UUID 4a...  LABEL root  ...
 *
 * The probe is the one `blkid -c /dev/null' makes for vfs_type (the
 * cache's verify step): superblocks with LABEL, UUID, TYPE and SEC_TYPE,
 * partitions with their entry details, in safe mode, so a device where
 * two signatures disagree yields nothing, as it does for vfs_type.
 * Nothing found (or an ambivalent result) is an empty list, not an
 * error.
 *
 * Under TCG every program run costs a fresh process to emulate (its
 * dynamic linking, its first page faults): about 0.1 s, 0.5 s when cold.
 * Here libblkid is loaded once into guestd (dlopen, as selinux.c does:
 * guestd builds without its headers) and the probe runs in a forked
 * child, which shares the code already translated: a superblock that
 * crashes the library kills the child, not guestd.  The child writes
 * "NAME\0VALUE\0" pairs to a pipe; the parent takes at most PROBE_MAX
 * bytes and at most PROBE_PAIRS pairs, and drops pairs that are not
 * two NUL-terminated strings.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guestd.h"

#define SUBLKS_LABEL (1 << 1)          /* libblkid's blkid.h values */
#define SUBLKS_UUID (1 << 3)
#define SUBLKS_TYPE (1 << 5)
#define SUBLKS_SECTYPE (1 << 6)
#define PARTS_ENTRY_DETAILS (1 << 2)

#define PROBE_MAX (64 * 1024)          /* bytes of pairs taken from the child */
#define PROBE_PAIRS 64
#define WHY_MAX 256                    /* a failed probe's reason */

/* The libblkid calls used, resolved once. */
struct blkid_lib {
  void *h;
  void *(*new_probe) (void);
  int (*set_device) (void *pr, int fd, long long off, long long size);
  int (*enable_superblocks) (void *pr, int enable);
  int (*set_superblocks_flags) (void *pr, int flags);
  int (*enable_partitions) (void *pr, int enable);
  int (*set_partitions_flags) (void *pr, int flags);
  int (*do_safeprobe) (void *pr);
  int (*numof_values) (void *pr);
  int (*get_value) (void *pr, int num, const char **name, const char **data,
                    size_t *len);
  void (*free_probe) (void *pr);
};

static struct blkid_lib lib;

static int
load_lib (char *why)
{
  struct { void **fn; const char *name; } s[] = {
    { (void **) &lib.new_probe, "blkid_new_probe" },
    { (void **) &lib.set_device, "blkid_probe_set_device" },
    { (void **) &lib.enable_superblocks, "blkid_probe_enable_superblocks" },
    { (void **) &lib.set_superblocks_flags, "blkid_probe_set_superblocks_flags" },
    { (void **) &lib.enable_partitions, "blkid_probe_enable_partitions" },
    { (void **) &lib.set_partitions_flags, "blkid_probe_set_partitions_flags" },
    { (void **) &lib.do_safeprobe, "blkid_do_safeprobe" },
    { (void **) &lib.numof_values, "blkid_probe_numof_values" },
    { (void **) &lib.get_value, "blkid_probe_get_value" },
    { (void **) &lib.free_probe, "blkid_free_probe" },
  };

  if (lib.h)
    return 0;
  if ((lib.h = dlopen ("libblkid.so.1", RTLD_NOW | RTLD_LOCAL)) == NULL) {
    snprintf (why, WHY_MAX, "cannot load libblkid.so.1: %s", dlerror ());
    return -1;
  }
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
    if ((*s[i].fn = dlsym (lib.h, s[i].name)) == NULL) {
      snprintf (why, WHY_MAX, "libblkid.so.1 has no %s", s[i].name);
      dlclose (lib.h);
      lib.h = NULL;
      return -1;
    }
  return 0;
}

/* A template loads libblkid before it is saved, so that no restored
 * appliance pays for loading and relocating it at its first probe. */
void
gd_probe_warm (void)
{
  char why[WHY_MAX];

  if (load_lib (why) == -1)
    gd_warn ("probe: %s", why);
}

/* In the child: probe the device open on fd, write the pairs to out.
 * Exit status 0 found or nothing found, 1 the probe failed. */
static void __attribute__((noreturn))
probe_child (int fd, int out)
{
  void *pr = lib.new_probe ();
  int r, n;

  if (pr == NULL || lib.set_device (pr, fd, 0, 0) != 0)
    _exit (1);
  lib.enable_superblocks (pr, 1);
  lib.set_superblocks_flags (pr, SUBLKS_LABEL | SUBLKS_UUID | SUBLKS_TYPE |
                             SUBLKS_SECTYPE);
  lib.enable_partitions (pr, 1);
  lib.set_partitions_flags (pr, PARTS_ENTRY_DETAILS);
  if ((r = lib.do_safeprobe (pr)) == -1)
    _exit (1);
  n = r == 0 ? lib.numof_values (pr) : 0;          /* 1 nothing, -2 ambivalent */
  for (int i = 0; i < n; i++) {
    const char *name, *data;
    size_t len;
    if (lib.get_value (pr, i, &name, &data, &len) != 0 || data == NULL)
      continue;
    len = strnlen (data, len);
    if (gd_write_to_fd (&out, name, strlen (name) + 1) == -1 ||
        gd_write_to_fd (&out, data, len) == -1 || gd_write_to_fd (&out, "", 1) == -1)
      _exit (1);
  }
  _exit (0);
}

/* Read what the child wrote, at most PROBE_MAX bytes (the rest is
 * drained so the child can finish).  *len_r is what was kept. */
static char *
read_pairs (int fd, size_t *len_r)
{
  char *buf = malloc (PROBE_MAX + 1), sink[4096];
  size_t got = 0;
  ssize_t r;

  if (buf == NULL)
    return NULL;
  for (;;) {
    if (got < PROBE_MAX)
      r = read (fd, buf + got, PROBE_MAX - got);
    else
      r = read (fd, sink, sizeof sink);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    if (got < PROBE_MAX)
      got += (size_t) r;
  }
  buf[got] = '\0';
  *len_r = got;
  return buf;
}

/* The pairs as a hashtable; a half pair at the end is dropped. */
static char **
pairs_list (const char *buf, size_t len)
{
  struct gd_strlist l = { 0 };
  size_t o = 0, npairs = 0;

  while (o < len && npairs < PROBE_PAIRS) {
    const char *k = buf + o, *v;
    size_t kl = strnlen (k, len - o), vl;
    if (o + kl + 1 >= len)
      break;
    v = k + kl + 1;
    vl = strnlen (v, len - (o + kl + 1));
    if (o + kl + 1 + vl >= len)
      break;                                   /* no NUL: cut off */
    if (gd_strlist_add (&l, k) == -1 || gd_strlist_add (&l, v) == -1) {
      gd_strlist_free (&l);
      return NULL;
    }
    npairs++;
    o += kl + 1 + vl + 1;
  }
  return gd_strlist_end (&l);
}

/* Fork the probe of the device open on fd; the pairs, or NULL with the
 * reason in why[WHY_MAX]. */
static char **
probe_fd (int fd, char *why)
{
  int p[2], status;
  pid_t pid;
  char *buf, **r;
  size_t len = 0;

  if (load_lib (why) == -1)
    return NULL;
  if (pipe2 (p, O_CLOEXEC) == -1) {
    snprintf (why, WHY_MAX, "pipe: %m");
    return NULL;
  }
  if ((pid = fork ()) == -1) {
    snprintf (why, WHY_MAX, "fork: %m");
    close (p[0]);
    close (p[1]);
    return NULL;
  }
  if (pid == 0) {
    close (p[0]);
    signal (SIGPIPE, SIG_DFL);
    probe_child (fd, p[1]);
  }
  close (p[1]);
  buf = read_pairs (p[0], &len);
  close (p[0]);
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (buf && WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    r = pairs_list (buf, len);
    free (buf);
    if (r == NULL)
      snprintf (why, WHY_MAX, "out of memory");
    return r;
  }
  if (buf == NULL)
    snprintf (why, WHY_MAX, "out of memory");
  else if (WIFSIGNALED (status))
    snprintf (why, WHY_MAX, "the probe died (signal %d)", WTERMSIG (status));
  else
    snprintf (why, WHY_MAX, "libblkid could not probe the device");
  free (buf);
  return NULL;
}

char **
do_blkid (const char *device)
{
  char **r, why[WHY_MAX];
  int fd;

  if ((fd = open (device, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
    reply_with_perror ("blkid %s", device);
    return NULL;
  }
  if ((r = probe_fd (fd, why)) == NULL)
    reply_with_error ("blkid %s: %s", device, why);
  close (fd);
  return r;
}

char *
gd_probe_type (const char *device)
{
  char **kv, *type = NULL, why[WHY_MAX];
  int fd = open (device, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd == -1)
    return NULL;
  kv = probe_fd (fd, why);
  close (fd);
  for (size_t i = 0; kv && kv[i] && kv[i+1] && type == NULL; i += 2)
    if (strcmp (kv[i], "TYPE") == 0 && kv[i+1][0])
      type = strdup (kv[i+1]);
  gk_free_strings (kv);
  return type;
}
