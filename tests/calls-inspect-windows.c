/* tests/calls-inspect-windows.c: inspection of a (fake) Windows guest.
 *
 * The test writes two registry hives on the host: a minimal empty hive
 * made byte by byte (a base block, one hbin holding the root key and a
 * security cell), then filled with libhivex's write calls:
 *
 *   SOFTWARE  Microsoft\Windows NT\CurrentVersion: ProductName,
 *             CurrentMajorVersionNumber 10, CurrentMinorVersionNumber 0,
 *             CurrentBuildNumber 20348
 *             Microsoft\Windows\CurrentVersion\Uninstall\{...}: one program
 *   SYSTEM    Select\Current = 1, ControlSet001\Services\Tcpip\Parameters
 *             Hostname
 *
 * and a guest with \Windows\System32\config\{SOFTWARE,SYSTEM} and a cmd.exe
 * that is only a PE header, on NTFS when the appliance can make and mount
 * it (else on vfat, which is case-insensitive too).  A second disk holds
 * a "Windows" whose hives are garbage: still a Windows root, with warnings.
 */
#include <fcntl.h>
#include <stdint.h>

#include <hivex.h>

#include "harness.h"

static guestfs_h *g;
static const char *fstype = "ntfs";

/* ---- A minimal hive ---- */

static void
le32 (unsigned char *p, uint32_t v)
{
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
le16 (unsigned char *p, unsigned v)
{
  p[0] = v; p[1] = v >> 8;
}

/* A hive with only a root key "ROOT": 4096-byte base block + one hbin. */
static int
write_empty_hive (const char *path)
{
  unsigned char h[8192] = { 0 }, *bin = h + 4096, *nk, *sk;
  uint32_t sum = 0;
  FILE *fp;

  memcpy (h, "regf", 4);
  le32 (h + 4, 1); le32 (h + 8, 1);           /* sequence numbers */
  le32 (h + 20, 1); le32 (h + 24, 3);         /* version 1.3 */
  le32 (h + 28, 0); le32 (h + 32, 1);         /* primary file, direct memory */
  le32 (h + 36, 0x20);                        /* root key cell */
  le32 (h + 40, 4096);                        /* size of the hbins */
  le32 (h + 44, 1);
  for (int i = 0; i < 127; i++)
    sum ^= (uint32_t) h[i*4] | (uint32_t) h[i*4+1] << 8 |
      (uint32_t) h[i*4+2] << 16 | (uint32_t) h[i*4+3] << 24;
  le32 (h + 508, sum);

  memcpy (bin, "hbin", 4);
  le32 (bin + 4, 0);                          /* offset of this bin */
  le32 (bin + 8, 4096);                       /* its size */
  /* Root nk cell at 0x20: 88 bytes. */
  le32 (bin + 0x20, (uint32_t) -88);
  nk = bin + 0x24;
  memcpy (nk, "nk", 2);
  le16 (nk + 2, 0x2c);                        /* hive entry, no delete, ASCII name */
  le32 (nk + 0x10, 0xffffffff);               /* parent */
  le32 (nk + 0x1c, 0xffffffff);               /* subkey list */
  le32 (nk + 0x20, 0xffffffff);
  le32 (nk + 0x28, 0xffffffff);               /* value list */
  le32 (nk + 0x2c, 0x78);                     /* security cell */
  le32 (nk + 0x30, 0xffffffff);               /* class name */
  le16 (nk + 0x48, 4);
  memcpy (nk + 0x4c, "ROOT", 4);
  /* sk cell at 0x78: 48 bytes, a list of one pointing at itself. */
  le32 (bin + 0x78, (uint32_t) -48);
  sk = bin + 0x7c;
  memcpy (sk, "sk", 2);
  le32 (sk + 4, 0x78); le32 (sk + 8, 0x78);   /* next, previous */
  le32 (sk + 12, 1);                          /* reference count */
  le32 (sk + 16, 20);                         /* descriptor size */
  sk[20] = 1;                                 /* revision */
  le16 (sk + 22, 0x8004);                     /* self-relative, DACL present */
  /* The rest of the bin is one free cell. */
  le32 (bin + 0xa8, 4096 - 0xa8);

  if ((fp = fopen (path, "wb")) == NULL)
    return -1;
  if (fwrite (h, 1, sizeof h, fp) != sizeof h) {
    fclose (fp);
    return -1;
  }
  return fclose (fp);
}

/* A key path under the root, made as needed. */
static hive_node_h
mkkey (hive_h *h, const char *path)
{
  char buf[256], *save = NULL;
  hive_node_h n = hivex_root (h), c;

  snprintf (buf, sizeof buf, "%s", path);
  for (char *k = strtok_r (buf, "\\", &save); k && n; k = strtok_r (NULL, "\\", &save)) {
    c = hivex_node_get_child (h, n, k);
    n = c ? c : hivex_node_add_child (h, n, k);
  }
  return n;
}

/* A REG_SZ value: UTF-16LE with its terminating NUL. */
static hive_set_value
sz (const char *key, const char *s, char *buf)
{
  size_t n = strlen (s);
  hive_set_value v = { (char *) key, hive_t_REG_SZ, 2 * (n + 1), buf };

  for (size_t i = 0; i <= n; i++) {
    buf[2*i] = s[i];
    buf[2*i+1] = 0;
  }
  return v;
}

static hive_set_value
dword (const char *key, uint32_t d, char *buf)
{
  hive_set_value v = { (char *) key, hive_t_REG_DWORD, 4, buf };
  le32 ((unsigned char *) buf, d);
  return v;
}

static int
make_software (const char *path)
{
  char b[6][128];
  hive_h *h;
  hive_node_h n;
  hive_set_value cv[4], app[3];

  if (write_empty_hive (path) == -1 || (h = hivex_open (path, HIVEX_OPEN_WRITE)) == NULL)
    return -1;
  n = mkkey (h, "Microsoft\\Windows NT\\CurrentVersion");
  cv[0] = sz ("ProductName", "Windows Server 2022 Standard", b[0]);
  cv[1] = dword ("CurrentMajorVersionNumber", 10, b[1]);
  cv[2] = dword ("CurrentMinorVersionNumber", 0, b[2]);
  cv[3] = sz ("CurrentBuildNumber", "20348", b[3]);
  if (n == 0 || hivex_node_set_values (h, n, 4, cv, 0) == -1)
    goto fail;
  n = mkkey (h, "Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip");
  app[0] = sz ("DisplayName", "7-Zip 23.01 (x64)", b[0]);
  app[1] = sz ("DisplayVersion", "23.01", b[1]);
  app[2] = sz ("Publisher", "Igor Pavlov", b[2]);
  if (n == 0 || hivex_node_set_values (h, n, 3, app, 0) == -1 ||
      mkkey (h, "Microsoft\\Windows\\CurrentVersion\\Uninstall\\NoName") == 0)
    goto fail;
  if (hivex_commit (h, NULL, 0) == -1)
    goto fail;
  return hivex_close (h);
 fail:
  hivex_close (h);
  return -1;
}

static int
make_system (const char *path)
{
  char b[2][128];
  hive_h *h;
  hive_node_h n;
  hive_set_value v;

  if (write_empty_hive (path) == -1 || (h = hivex_open (path, HIVEX_OPEN_WRITE)) == NULL)
    return -1;
  v = dword ("Current", 1, b[0]);
  if ((n = mkkey (h, "Select")) == 0 || hivex_node_set_value (h, n, &v, 0) == -1)
    goto fail;
  v = sz ("Hostname", "WIN-SRV01", b[1]);
  if ((n = mkkey (h, "ControlSet001\\Services\\Tcpip\\Parameters")) == 0 ||
      hivex_node_set_value (h, n, &v, 0) == -1 || hivex_commit (h, NULL, 0) == -1)
    goto fail;
  return hivex_close (h);
 fail:
  hivex_close (h);
  return -1;
}

/* ---- The guests ---- */

#define TRY(expr)                                                       \
  do {                                                                  \
    if ((expr) == -1) {                                                 \
      printf ("  build: %s:%d: %s: %s\n", __FILE__, __LINE__, #expr,    \
              guestfs_last_error (g));                                  \
      return -1;                                                        \
    }                                                                   \
  } while (0)

/* A PE header for an x86_64 executable. */
static int
put_cmd_exe (const char *path)
{
  unsigned char pe[512] = { 'M', 'Z' };

  le32 (pe + 0x3c, 0x80);
  memcpy (pe + 0x80, "PE\0\0", 4);
  le16 (pe + 0x84, 0x8664);
  return th_upload_bytes (g, path, pe, sizeof pe);
}

/* Partition and format a disk, NTFS when the appliance can mount it. */
static int
format (const char *disk, const char *part)
{
  TRY (guestfs_part_disk (g, disk, "mbr"));
  if (strcmp (fstype, "ntfs") == 0 &&
      (guestfs_mkfs (g, "ntfs", part) == -1 || guestfs_mount (g, part, "/") == -1)) {
    printf ("  (no NTFS in the appliance: %s; using vfat)\n", guestfs_last_error (g));
    fstype = "vfat";
  }
  if (strcmp (fstype, "vfat") == 0) {
    TRY (guestfs_mkfs (g, "vfat", part));
    TRY (guestfs_mount (g, part, "/"));
  }
  return 0;
}

static int
build_windows (void)
{
  const char *soft = "tests/out/inspect-SOFTWARE.hive", *sys = "tests/out/inspect-SYSTEM.hive";

  TRY (format ("/dev/sda", "/dev/sda1"));
  TRY (guestfs_mkdir_p (g, "/Windows/System32/config"));
  TRY (guestfs_mkdir_p (g, "/Program Files"));
  if (make_software (soft) == -1 || make_system (sys) == -1) {
    printf ("  build: cannot write the hives: %s\n", strerror (errno));
    return -1;
  }
  TRY (guestfs_upload (g, soft, "/Windows/System32/config/SOFTWARE"));
  TRY (guestfs_upload (g, sys, "/Windows/System32/config/SYSTEM"));
  unlink (soft);
  unlink (sys);
  TRY (put_cmd_exe ("/Windows/System32/cmd.exe"));
  return guestfs_umount_all (g);
}

static int
build_broken_windows (void)
{
  TRY (format ("/dev/sdb", "/dev/sdb1"));
  TRY (guestfs_mkdir_p (g, "/WINDOWS/system32/config"));
  TRY (guestfs_write_file (g, "/WINDOWS/system32/config/software",
                           "regf but not really a hive", 0));
  return guestfs_umount_all (g);
}

/* ---- Checks ---- */

#define CHECK_STR(call, want)                                           \
  do {                                                                  \
    char *s_ = (call);                                                  \
    int ok_ = s_ && strcmp (s_, want) == 0;                             \
    if (!ok_) {                                                         \
      printf ("FAIL: %s: %s:%d: %s = '%s', want '%s'\n", th_name,       \
              __FILE__, __LINE__, #call, s_ ? s_ : "NULL", want);       \
      fflush (stdout);                                                  \
      th_failed++;                                                      \
      free (s_);                                                        \
      return;                                                           \
    }                                                                   \
    free (s_);                                                          \
  } while (0)

static int
has_sub (char **l, const char *needle)
{
  for (size_t i = 0; l && l[i]; i++)
    if (strstr (l[i], needle))
      return 1;
  return 0;
}

static void
t_build (void)
{
  CHECK (build_windows () == 0, "Windows image");
  CHECK (build_broken_windows () == 0, "broken Windows image");
}

static void
t_windows (void)
{
  char **roots = guestfs_inspect_os (g), **m, **w;
  struct guestfs_application_list *l;

  CHECK (roots != NULL, "inspect_os: %s", guestfs_last_error (g));
  CHECK (roots[0] && strcmp (roots[0], "/dev/sda1") == 0 && roots[1] &&
         strcmp (roots[1], "/dev/sdb1") == 0 && roots[2] == NULL, "roots");
  th_count_free (roots);
  CHECK_STR (guestfs_inspect_get_type (g, "/dev/sda1"), "windows");
  CHECK_STR (guestfs_inspect_get_distro (g, "/dev/sda1"), "windows");
  CHECK_STR (guestfs_inspect_get_product_name (g, "/dev/sda1"), "Windows Server 2022 Standard");
  CHECK (guestfs_inspect_get_major_version (g, "/dev/sda1") == 10 &&
         guestfs_inspect_get_minor_version (g, "/dev/sda1") == 0, "version");
  CHECK_STR (guestfs_inspect_get_hostname (g, "/dev/sda1"), "WIN-SRV01");
  CHECK_STR (guestfs_inspect_get_arch (g, "/dev/sda1"), "x86_64");
  CHECK_STR (guestfs_inspect_get_package_format (g, "/dev/sda1"), "unknown");
  m = guestfs_inspect_get_mountpoints (g, "/dev/sda1");
  CHECK (m && m[0] && strcmp (m[0], "/") == 0 && strcmp (m[1], "/dev/sda1") == 0 &&
         m[2] == NULL, "mountpoints");
  th_count_free (m);
  l = guestfs_inspect_list_applications (g, "/dev/sda1");
  CHECK (l && l->len == 1, "applications: %s", l ? "wrong count" : guestfs_last_error (g));
  CHECK (strcmp (l->val[0].app_name, "7-Zip") == 0 &&
         strcmp (l->val[0].app_display_name, "7-Zip 23.01 (x64)") == 0 &&
         strcmp (l->val[0].app_version, "23.01") == 0 &&
         strcmp (l->val[0].app_publisher, "Igor Pavlov") == 0, "7-Zip fields");
  guestfs_free_application_list (l);
  w = guestfs_inspect_get_warnings (g, "/dev/sda1");
  for (size_t i = 0; w && w[i]; i++)
    printf ("  warning: %s\n", w[i]);
  CHECK (w && w[0] == NULL, "warnings on a clean Windows");
  th_count_free (w);
}

static void
t_broken_windows (void)
{
  char **w;
  struct guestfs_application_list *l;

  CHECK_STR (guestfs_inspect_get_type (g, "/dev/sdb1"), "windows");
  CHECK_STR (guestfs_inspect_get_product_name (g, "/dev/sdb1"), "unknown");
  CHECK_STR (guestfs_inspect_get_hostname (g, "/dev/sdb1"), "unknown");
  CHECK (guestfs_inspect_get_major_version (g, "/dev/sdb1") == 0, "version of nothing");
  w = guestfs_inspect_get_warnings (g, "/dev/sdb1");
  CHECK (has_sub (w, "not a registry hive"), "no warning about the bad SOFTWARE hive");
  CHECK (has_sub (w, "no registry hive"), "no warning about the missing SYSTEM hive");
  CHECK (has_sub (w, "architecture unknown"), "no warning about cmd.exe");
  th_count_free (w);
  l = guestfs_inspect_list_applications (g, "/dev/sdb1");
  CHECK (l && l->len == 0, "applications of a broken registry: %s",
         l ? "some" : guestfs_last_error (g));
  guestfs_free_application_list (l);
}

static void
t_mount_root (void)
{
  CHECK (guestfs_inspect_mount_root (g, "/dev/sda1", 1) == 0, "mount_root: %s",
         guestfs_last_error (g));
  CHECK (guestfs_is_dir (g, "/Program Files") == 1, "not mounted");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_inspect_get_hostname (g, "/dev/sdc") == NULL, "hostname of a non-root");
  CHECK_ERR (g, "not a root");
}

int
main (void)
{
  char *disks[2] = { th_scratch ("inspect-win-a", 32), th_scratch ("inspect-win-b", 32) };
  const char *imgs[] = { disks[0], disks[1], NULL };

  th_name = "inspect-windows-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("inspect-windows-build", t_build);
    th_run ("inspect-windows-registry", t_windows);
    th_run ("inspect-windows-broken-hives", t_broken_windows);
    th_run ("inspect-windows-mount-root", t_mount_root);
    guestfs_close (g);
  }
  for (int i = 0; i < 2; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  return th_done ();
}
