/* runner/steps-packages.c: packages, with the guest's own package
 * manager, chosen by the package database the guest has (deb: dpkg).
 *
 *   debs:    local .deb files given by the job (host paths): checked on
 *            the host with dpkg-deb (they are the job's own files, not
 *            the guest's), uploaded, installed with the guest's dpkg -i;
 *            skipped when the guest has that version installed already
 *   remove:  packages removed with the guest's dpkg -r, when installed
 *   install: by name from the guest's own apt sources, over the
 *            appliance's network (the job must say `network: true'):
 *            the packages are downloaded first, so that the files they
 *            bring are in the changes record before they are unpacked,
 *            then installed with apt-get.  The guest's resolv.conf is
 *            replaced by one naming qemu's DNS forwarder for the step
 *            only, and apt's package lists are cleared afterwards if the
 *            guest had none before.
 *
 * What is installed comes from dpkg_packages (guestd reads the guest's
 * dpkg status itself: no dpkg-query to run); "installed" is dpkg's
 * "install ok installed" and the version is as dpkg-query prints it.
 * The changes record gets the package's files (from dpkg-deb -c for a
 * .deb, from the guest's dpkg-query -L for a removal) and dpkg's status.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define MAX_FILES 20000

/* The guest's package manager, from its package database (the guest is
 * mounted already; inspect_os would unmount it). */
static int
package_format (struct rn_sctx *c)
{
  static const char *const others[][2] = {
    { "/var/lib/rpm", "rpm" }, { "/usr/lib/sysimage/rpm", "rpm" },
    { "/lib/apk/db", "apk" }, { "/var/lib/pacman", "pacman" },
  };

  if (guestfs_is_file (c->g, "/var/lib/dpkg/status") == 1)
    return 0;
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
    if (guestfs_is_dir (c->g, others[i][0]) == 1)
      return rn_step_fail (c, "%s guests are not supported yet (deb only)", others[i][1]);
  return rn_step_fail (c, "the guest has no package database this step knows "
                       "(deb: /var/lib/dpkg/status)");
}

/* The guest's packages, read by guestd from its dpkg status (no program
 * runs): calls fn for each row of dpkg_packages that dpkg calls
 * installed ("ii ", install ok installed), with the name and the
 * version as dpkg-query prints ${Version}.  names (NULL-terminated,
 * may be empty: all) filters.  0, or -1 with the step failed (what
 * names the step's part). */
#define DPKG_ROW 9              /* strings per row of dpkg_packages */
#define DPKG_MAX_PAGES 10000

static int
each_installed (struct rn_sctx *c, const char *what, char *const *names,
                void (*fn) (void *opaque, const char *name, const char *ver),
                void *opaque)
{
  int start = 0, pages = 0;

  while (start >= 0) {
    char **v = guestfs_dpkg_packages (c->g, names, start);
    size_t n = 0;
    int next = -1;

    if (v == NULL)
      return rn_step_gfail (c, what);
    while (v[n])
      n++;
    for (size_t i = 0; n % DPKG_ROW == 0 && i < n; i += DPKG_ROW) {
      char *const *r = v + i;
      if (strcmp (r[0], "P") == 0 && strcmp (r[2], "ii ") == 0 && *r[3])
        fn (opaque, r[1], r[3]);
      else if (strcmp (r[0], "N") == 0)
        next = atoi (r[1]);
    }
    rn_free_strings (v);
    if (n % DPKG_ROW != 0 || (next != -1 && (next <= start || ++pages > DPKG_MAX_PAGES)))
      return rn_step_fail (c, "%s: the appliance sent a broken package list", what);
    start = next;
  }
  return 0;
}

static void
keep_version (void *opaque, const char *name, const char *ver)
{
  char **have = opaque;

  (void) name;
  if (*have == NULL)
    *have = rn_strdup (ver);
}

/* The guest's installed version of pkg into *have (NULL if it is not
 * installed); 0, or -1 with the step failed. */
static int
installed (struct rn_sctx *c, const char *pkg, char **have)
{
  char *names[] = { (char *) pkg, NULL };
  char *what = rn_asprintf ("%s: reading the guest's dpkg status", pkg);
  int r;

  *have = NULL;
  r = each_installed (c, what, names, keep_version, have);
  free (what);
  if (r == -1) {
    free (*have);
    *have = NULL;
  }
  return r;
}

/* ---- The job's .deb files, read on the host once per run ----
 *
 * dpkg-deb -f and dpkg-deb -c cost 30-40 ms a .deb on the host, in the
 * middle of the step.  exec.c calls rn_prefetch_packages before the
 * task's launch (0.3-0.6 s in which the host's other core has nothing to
 * do), which reads them in a thread; the step takes what it found,
 * waiting if it is not done yet.  What was read is kept for the run, by
 * path and by the file's device, inode, size and modification time: a
 * .deb replaced or touched since is read again, and the same .deb for
 * every image of a run is read once. */

struct debinfo {
  struct debinfo *next;
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int done;                  /* 0 while a thread reads it */
  char *pkg, *ver;           /* its Package and Version; NULL on error */
  char *list;                /* dpkg-deb -c's lines, or NULL */
  char *err;                 /* why pkg is NULL */
};

static pthread_mutex_t debs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t debs_read = PTHREAD_COND_INITIALIZER;
static struct debinfo *debs_seen;

/* Fill d (not locked: d is not done, so no one else touches it). */
static void
read_deb (struct debinfo *d)
{
  char *argv[] = { "dpkg-deb", "-f", d->path, "Package", "Version", NULL };
  char *lsv[] = { "dpkg-deb", "-c", d->path, NULL };
  char *out = NULL, *err = NULL, *nl;

  if (rn_run_command_output (argv, &out, &err) == -1) {
    d->err = rn_asprintf ("%s is not a .deb package: %s", d->path, err);
    free (err);
    return;
  }
  /* "Package: NAME\nVersion: V\n" */
  if (strncmp (out, "Package: ", 9) == 0 && (nl = strchr (out, '\n')) &&
      strncmp (nl + 1, "Version: ", 9) == 0) {
    d->pkg = rn_strndup (out + 9, (size_t) (nl - out - 9));
    d->ver = rn_strndup (nl + 10, strcspn (nl + 10, "\n"));
  }
  free (out);
  if (d->pkg == NULL || d->pkg[0] == '\0' || strpbrk (d->pkg, " /'")) {
    free (d->pkg);
    free (d->ver);
    d->pkg = d->ver = NULL;
    d->err = rn_asprintf ("%s has no usable Package and Version fields", d->path);
    return;
  }
  if (rn_run_command_output (lsv, &d->list, &err) == -1) {
    free (d->list);
    d->list = NULL;                    /* the before states are then not taken */
  }
  free (err);
}

/* The entry for path as the file is now, read first if need be; NULL if
 * the file cannot be stat'ed (*why set, caller frees).  Entries stay
 * for the run: the caller does not free them. */
static const struct debinfo *
deb_info (const char *path, char **why)
{
  struct debinfo *d;
  struct stat st;

  if (stat (path, &st) == -1) {
    *why = rn_asprintf ("%s is not a .deb package: %s", path, strerror (errno));
    return NULL;
  }
  pthread_mutex_lock (&debs_lock);
  for (d = debs_seen; d; d = d->next)
    if (strcmp (d->path, path) == 0 && d->dev == st.st_dev && d->ino == st.st_ino &&
        d->size == st.st_size && d->mtime.tv_sec == st.st_mtim.tv_sec &&
        d->mtime.tv_nsec == st.st_mtim.tv_nsec)
      break;
  if (d == NULL) {
    d = rn_calloc (1, sizeof *d);
    d->path = rn_strdup (path);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->size = st.st_size;
    d->mtime = st.st_mtim;
    d->next = debs_seen;
    debs_seen = d;
    pthread_mutex_unlock (&debs_lock);
    read_deb (d);
    pthread_mutex_lock (&debs_lock);
    d->done = 1;
    pthread_cond_broadcast (&debs_read);
  }
  while (!d->done)
    pthread_cond_wait (&debs_read, &debs_lock);
  pthread_mutex_unlock (&debs_lock);
  return d;
}

static void *
prefetch_main (void *arg)
{
  char **paths = arg, *why = NULL;

  for (size_t i = 0; paths[i]; i++) {
    deb_info (paths[i], &why);
    free (why);
    why = NULL;
    free (paths[i]);
  }
  free (paths);
  return NULL;
}

void
rn_prefetch_packages (const struct rn_sctx *c)
{
  char *const *debs = rn_sa_list (c, "debs");
  size_t n = 0;
  char **paths;
  pthread_attr_t attr;
  pthread_t t;

  while (debs[n])
    n++;
  if (n == 0)
    return;
  paths = rn_calloc (n + 1, sizeof *paths);
  for (size_t i = 0; i < n; i++)
    paths[i] = rn_path_join (c->j->dir, debs[i]);
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create (&t, &attr, prefetch_main, paths) != 0)
    prefetch_main (paths);             /* no thread: read them now */
  pthread_attr_destroy (&attr);
}

/* Package and Version of a .deb (host), from deb_info; -1 with the
 * step's error. */
static int
deb_fields (struct rn_sctx *c, const char *deb, const struct debinfo **info)
{
  char *why = NULL;

  if ((*info = deb_info (deb, &why)) == NULL || (*info)->pkg == NULL) {
    rn_step_fail (c, "debs: %s", why ? why : (*info)->err);
    free (why);
    return -1;
  }
  return 0;
}

/* Record the before state of a package's files: from "dpkg-deb -c"
 * (tar -tv style lines, path last) when listing is a .deb, else the
 * lines of "dpkg-query -L" from the guest.  Directories the guest has
 * already are left out; all in one batch. */
static void
before_files (struct rn_sctx *c, const char *listing, int tar)
{
  struct rn_strv paths = { 0 };

  for (const char *p = listing; p && *p && paths.n < MAX_FILES;) {
    const char *nl = strchr (p, '\n');
    size_t len = nl ? (size_t) (nl - p) : strlen (p);
    char *line = rn_strndup (p, len), *path = tar ? strstr (line, " ./") : line;
    if (path && tar)
      path += 2;                       /* " ./usr/x" -> "/usr/x" */
    if (path && path[0] == '/' && path[1]) {
      char *arrow = tar ? strstr (path, " -> ") : NULL;   /* a symlink's target */
      if (arrow)
        *arrow = '\0';
      if (path[strlen (path) - 1] == '/')
        path[strlen (path) - 1] = '\0';
      rn_strv_add (&paths, rn_strdup (path));
    }
    free (line);
    p = nl ? nl + 1 : NULL;
  }
  rn_strv_add (&paths, rn_strdup ("/var/lib/dpkg/status"));
  rn_chg_before_list (c->chg, c->g, (const char *const *) paths.v, paths.n, 1);
  rn_strv_free (&paths);
}

static int
install_deb (struct rn_sctx *c, const char *deb, struct rn_strv *done)
{
  const struct debinfo *d;
  char *have, *tmp;
  int r = 0;

  if (deb_fields (c, deb, &d) == -1)
    return -1;
  if (installed (c, d->pkg, &have) == -1)
    r = -1;
  else if (have == NULL || strcmp (have, d->ver) != 0) {
    if (d->list)
      before_files (c, d->list, 1);
    tmp = rn_asprintf ("/tmp/guestkit-%s.deb", d->pkg);
    {
      /* --force-unsafe-io: no fsync per unpacked file; every write goes
       * to disk with the task's umount_all and sync, before any commit. */
      char *argv[] = { "dpkg", "--force-unsafe-io", "-i", tmp, NULL }, *o = NULL;
      if (guestfs_upload (c->g, deb, tmp) == -1 || (o = guestfs_command (c->g, argv)) == NULL)
        r = rn_step_gfail (c, d->pkg);
      else
        rn_strv_add (done, rn_asprintf ("%s=%s", d->pkg, d->ver));
      free (o);
    }
    guestfs_rm (c->g, tmp);             /* the file uploaded: no rm -rf to start */
    free (tmp);
  }
  free (have);
  return r;
}

static int
remove_pkg (struct rn_sctx *c, const char *pkg, struct rn_strv *done)
{
  char *have, *list;
  char *lsv[] = { "dpkg-query", "-L", (char *) pkg, NULL };
  char *rmv[] = { "dpkg", "-r", (char *) pkg, NULL };
  int r = 0;

  if (installed (c, pkg, &have) == -1)
    return -1;
  if (have == NULL)
    return 0;                          /* not there: nothing to do */
  if ((list = guestfs_command (c->g, lsv)) != NULL)
    before_files (c, list, 0);
  free (list);
  if ((list = guestfs_command (c->g, rmv)) == NULL)
    r = rn_step_gfail (c, pkg);
  else
    rn_strv_add (done, rn_strdup (pkg));
  free (list);
  free (have);
  return r;
}

/* A Debian package name, optionally =VERSION: nothing a shell or apt
 * option could take for something else. */
static int
valid_pkg (const char *p)
{
  const char *eq = strchr (p, '=');
  size_t n = eq ? (size_t) (eq - p) : strlen (p);

  if (n < 2 || n > 100 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9')))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!strchr ("abcdefghijklmnopqrstuvwxyz0123456789+-.", p[i]))
      return 0;
  for (const char *v = eq ? eq + 1 : ""; *v; v++)
    if (!strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.:~", *v))
      return 0;
  return !eq || eq[1] != '\0';
}

static void
add_name_version (void *opaque, const char *name, const char *ver)
{
  rn_strv_add (opaque, rn_asprintf ("%s=%s", name, ver));
}

/* "name=version" of every installed package into l; 0 or -1 (failed). */
static int
installed_all (struct rn_sctx *c, struct rn_strv *l)
{
  char *none[] = { NULL };

  return each_installed (c, "install: reading the guest's dpkg status", none,
                         add_name_version, l);
}

static int
has_string (const struct rn_strv *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i], s) == 0)
      return 1;
  return 0;
}

#define RESOLV      "/etc/resolv.conf"
#define RESOLV_SAVE "/etc/resolv.conf.guestkit-saved"
#define APT_ENV "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 " \
  "-o Dpkg::Options::=--force-confold --no-install-recommends "

/* The guest's shell runs s; on failure the step fails with what apt said. */
static int
apt (struct rn_sctx *c, const char *what, const char *s)
{
  char *o = guestfs_sh (c->g, s);

  if (o == NULL)
    return rn_step_gfail (c, what);
  free (o);
  return 0;
}

static int
install_by_name (struct rn_sctx *c, char *const *names, struct rn_strv *done)
{
  struct rn_buf list = { 0 };
  struct rn_strv before = { 0 }, after = { 0 };
  char *debs = NULL, *cmd = NULL, *o;
  int r = -1, saved = 0, had_lists;

  if (!c->j->network)
    return rn_step_fail (c, "install: installing by name needs the appliance's "
                         "network: set `network: true' in the job, or give the "
                         "packages as debs:");
  for (size_t i = 0; names[i]; i++)
    if (!valid_pkg (names[i]))
      return rn_step_fail (c, "install: '%s' is not a Debian package name "
                           "(lower case letters, digits, + - . ; optionally =VERSION)",
                           names[i]);
  if (guestfs_exists (c->g, "/usr/bin/apt-get") != 1)
    return rn_step_fail (c, "install: the guest has no /usr/bin/apt-get");
  o = guestfs_sh (c->g, "ls /var/lib/apt/lists | grep -q _Packages");
  had_lists = o != NULL;
  free (o);
  if (installed_all (c, &before) == -1)
    return -1;
  /* qemu's DNS forwarder, for this step only */
  o = guestfs_sh (c->g, "test -e " RESOLV " || test -L " RESOLV);
  if (o != NULL) {
    if (guestfs_mv (c->g, RESOLV, RESOLV_SAVE) == -1) {
      rn_step_gfail (c, "install: saving " RESOLV);
      goto out;
    }
    saved = 1;
  }
  free (o);
  if (guestfs_write_file (c->g, RESOLV, "nameserver 10.0.2.3\n", 0) == -1) {
    rn_step_gfail (c, "install: writing " RESOLV);
    goto out;
  }
  for (size_t i = 0; names[i]; i++) {
    rn_buf_addc (&list, ' ');
    rn_buf_adds (&list, names[i]);
  }
  cmd = rn_asprintf (APT_ENV "install -d%s", list.s);
  if (apt (c, "install: apt-get update", "apt-get -q -o Acquire::Retries=2 update") == -1 ||
      apt (c, "install: apt-get install -d (download)", cmd) == -1)
    goto out;
  /* what the downloaded packages will write, before they do */
  if ((debs = guestfs_sh (c->g, "ls /var/cache/apt/archives/ | grep '[.]deb$' || true")) != NULL)
    for (char *p = debs, *nl; p && *p; p = nl ? nl + 1 : NULL) {
      if ((nl = strchr (p, '\n')) != NULL)
        *nl = '\0';
      char *path = rn_asprintf ("/var/cache/apt/archives/%s", p);
      char *lsv[] = { "dpkg-deb", "-c", path, NULL }, *flist = guestfs_command (c->g, lsv);
      if (flist)
        before_files (c, flist, 1);
      free (flist);
      free (path);
    }
  free (cmd);
  cmd = rn_asprintf (APT_ENV "install%s", list.s);
  if (apt (c, "install: apt-get install", cmd) == -1)
    goto out;
  if (installed_all (c, &after) == -1)
    goto out;
  for (size_t i = 0; i < after.n; i++)
    if (!has_string (&before, after.v[i]))
      rn_strv_add (done, rn_strdup (after.v[i]));
  r = 0;
 out:
  free (guestfs_sh (c->g, had_lists ? "apt-get clean"
                    : "apt-get clean; rm -rf /var/lib/apt/lists/*"));
  guestfs_rm_rf (c->g, RESOLV);
  if (saved && guestfs_mv (c->g, RESOLV_SAVE, RESOLV) == -1 && r == 0)
    r = rn_step_gfail (c, "install: restoring " RESOLV);
  rn_strv_free (&before);
  rn_strv_free (&after);
  free (debs);
  free (cmd);
  free (list.s);
  return r;
}

static void
result_list (struct rn_sctx *c, const char *name, struct rn_strv *l)
{
  rn_json_strz (&c->result, name);
  rn_buf_addc (&c->result, ':');
  rn_json_strv (&c->result, l->v ? l->v : (char *[]) { NULL });
}

int
rn_step_packages (struct rn_sctx *c)
{
  char *const *debs = rn_sa_list (c, "debs"), *const *rm = rn_sa_list (c, "remove");
  struct rn_strv inst = { 0 }, gone = { 0 };
  int r;

  char *const *names = rn_sa_list (c, "install");

  if (!debs[0] && !rm[0] && !names[0])
    return rn_step_fail (c, "nothing to do: give install, debs or remove");
  if ((r = package_format (c)) == -1)
    return -1;
  for (size_t i = 0; debs[i] && r == 0; i++) {
    char *p = rn_path_join (c->j->dir, debs[i]);
    r = install_deb (c, p, &inst);
    free (p);
  }
  if (names[0] && r == 0)
    r = install_by_name (c, names, &inst);
  for (size_t i = 0; rm[i] && r == 0; i++)
    r = remove_pkg (c, rm[i], &gone);
  rn_buf_addc (&c->result, '{');
  result_list (c, "installed", &inst);
  rn_buf_addc (&c->result, ',');
  result_list (c, "removed", &gone);
  rn_buf_addc (&c->result, '}');
  rn_strv_free (&inst);
  rn_strv_free (&gone);
  return r;
}
