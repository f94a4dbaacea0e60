/* tests/calls-inspect.c: inspection of Linux guests, against one real
 * appliance.
 *
 * One handle with nine scratch disks.  First the disks hold no OS at all
 * (inspect_os must answer an empty list); then the checks build, through
 * the library itself, one small fake guest per disk and inspect them all
 * at once:
 *
 *   sda  a data disk, no OS
 *   sdb  Debian 12.5: one partition, fstab by UUID=, dpkg status
 *   sdc  Ubuntu 22.04: separate /boot and /var and swap, fstab by guest
 *        device name (/dev/vdc2), LABEL=, UUID= and /dev/disk/by-uuid/
 *   sdd  Fedora 39 on LVM (root and var LVs), /dev/mapper/ and /dev/VG/LV
 *        names, an aarch64 /bin/ls, an SQLite rpmdb on the var LV
 *   sde  Alpine 3.19 on the whole disk (no partition table), apk db
 *   sdf  Arch: no VERSION_ID, pacman local db (one package with an epoch)
 *   sdg  openSUSE Leap 15.5: /etc/HOSTNAME, a Berkeley DB rpm Packages
 *        file made by db_load when the host has it
 *   sdh  a messy CentOS 7: no os-release, a malformed fstab, no ELF
 *        binaries, a corrupt rpm database
 *   sdi  an unknown distribution like Debian: no fstab, a bad host
 *        name, a corrupt dpkg status
 *
 * Package databases are fake but in the real formats; executables are
 * just their ELF headers.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>

#include <sqlite3.h>

#include <sys/wait.h>

#include "harness.h"

#define NDISKS 9

static guestfs_h *g;
static char *disks[NDISKS];
static int have_bdb;              /* the SUSE image got a real BDB rpmdb */
static char *debian_uuid, *ubuntu_var_uuid, *fedora_boot_uuid, *arch_uuid;

/* ---- Building blocks ---- */

#define TRY(expr)                                                       \
  do {                                                                  \
    if ((expr) == -1) {                                                 \
      printf ("  build: %s:%d: %s: %s\n", __FILE__, __LINE__, #expr,    \
              guestfs_last_error (g));                                  \
      return -1;                                                        \
    }                                                                   \
  } while (0)

static int
put (const char *path, const char *text)
{
  return guestfs_write_file (g, path, text, 0);
}

/* An ELF header for machine m (class 64 unless is32, little-endian). */
static int
put_elf (const char *path, unsigned machine, int is32)
{
  unsigned char h[64] = { 0x7f, 'E', 'L', 'F' };

  h[4] = is32 ? 1 : 2;
  h[5] = 1;
  h[6] = 1;
  h[16] = 2;                    /* ET_EXEC */
  h[18] = machine & 0xff;
  h[19] = machine >> 8;
  return th_upload_bytes (g, path, h, sizeof h);
}

/* Does some string of the list contain needle? */
static int
has_sub (char **l, const char *needle)
{
  for (size_t i = 0; l && l[i]; i++)
    if (strstr (l[i], needle))
      return 1;
  return 0;
}

static char *
fmt (const char *f, ...)
{
  va_list ap;
  char *s;

  va_start (ap, f);
  if (vasprintf (&s, f, ap) == -1)
    abort ();
  va_end (ap);
  return s;
}

/* Write text with one formatted argument. */
static int
putf (const char *path, const char *f, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, f);
  if (vasprintf (&s, f, ap) == -1)
    abort ();
  va_end (ap);
  r = put (path, s);
  free (s);
  return r;
}

/* The usual directories, /bin -> usr/bin and an x86_64 /usr/bin/ls. */
static int
usr_merged (unsigned machine)
{
  TRY (guestfs_mkdir_p (g, "/etc"));
  TRY (guestfs_mkdir_p (g, "/usr/bin"));
  TRY (guestfs_mkdir_p (g, "/var/lib"));
  TRY (guestfs_ln_s (g, "usr/bin", "/bin"));
  TRY (put_elf ("/usr/bin/ls", machine, 0));
  TRY (put ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
  return 0;
}

static int
one_partition (const char *disk, const char *fstype)
{
  char *part = fmt ("%s1", disk);
  int r = guestfs_part_disk (g, disk, "mbr") == -1 ||
    guestfs_mkfs (g, fstype, part) == -1 ||
    guestfs_mount (g, part, "/") == -1 ? -1 : 0;
  if (r == -1)
    printf ("  build: %s: %s\n", part, guestfs_last_error (g));
  free (part);
  return r;
}

/* ---- The images ---- */

static int
build_nothing (void)
{
  TRY (one_partition ("/dev/sda", "ext4"));
  TRY (guestfs_mkdir_p (g, "/data/etc-not-here"));
  TRY (put ("/data/readme.txt", "just data\n"));
  return guestfs_umount_all (g);
}

static const char debian_dpkg[] =
  "Package: bash\n"
  "Status: install ok installed\n"
  "Priority: required\n"
  "Architecture: amd64\n"
  "Version: 5.2.15-2+b2\n"
  "Description: GNU Bourne Again SHell\n"
  " Bash is an sh-compatible command language interpreter.\n"
  " .\n"
  " More text.\n"
  "Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html\n"
  "\n"
  "Package: libc6\n"
  "Status: install ok installed\n"
  "Architecture: amd64\n"
  "Source: glibc\n"
  "Version: 2.36-9+deb12u4\n"
  "Description: GNU C Library: Shared libraries\n"
  "\n"
  "Package: removed-pkg\n"
  "Status: deinstall ok config-files\n"
  "Architecture: all\n"
  "Version: 1.0-1\n"
  "Description: gone\n"
  "\n"
  "Package: vim\n"
  "Status: install ok installed\n"
  "Architecture: amd64\n"
  "Source: vim (2:9.0.1378-2)\n"
  "Version: 2:9.0.1378-2\n"
  "Description: Vi IMproved - enhanced vi editor\n";

static int
build_debian (void)
{
  TRY (one_partition ("/dev/sdb", "ext4"));
  debian_uuid = guestfs_get_e2uuid (g, "/dev/sdb1");
  if (debian_uuid == NULL)
    return -1;
  TRY (usr_merged (62));
  TRY (guestfs_mkdir_p (g, "/var/lib/dpkg"));
  TRY (put ("/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
            "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
            "VERSION=\"12 (bookworm)\"\nID=debian\n"));
  TRY (put ("/etc/debian_version", "12.5\n"));
  TRY (put ("/etc/hostname", "debian12\n"));
  TRY (putf ("/etc/fstab", "# /etc/fstab\nUUID=%s / ext4 errors=remount-ro 0 1\n",
             debian_uuid));
  TRY (put ("/var/lib/dpkg/status", debian_dpkg));
  return guestfs_umount_all (g);
}

#define SWAP_UUID "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"

static int
build_ubuntu (void)
{
  TRY (guestfs_part_init (g, "/dev/sdc", "msdos"));
  TRY (guestfs_part_add (g, "/dev/sdc", "p", 2048, 18431));       /* /boot */
  TRY (guestfs_part_add (g, "/dev/sdc", "p", 18432, 67583));      /* / */
  TRY (guestfs_part_add (g, "/dev/sdc", "p", 67584, 100351));     /* /var */
  TRY (guestfs_part_add (g, "/dev/sdc", "p", 100352, 131071));    /* swap */
  TRY (guestfs_mkfs (g, "ext4", "/dev/sdc1"));
  TRY (guestfs_mkfs (g, "ext4", "/dev/sdc2"));
  TRY (guestfs_mkfs (g, "ext4", "/dev/sdc3"));
  TRY (guestfs_mkswap_U (g, SWAP_UUID, "/dev/sdc4"));
  TRY (guestfs_set_e2label (g, "/dev/sdc1", "UBOOT"));
  if ((ubuntu_var_uuid = guestfs_get_e2uuid (g, "/dev/sdc3")) == NULL)
    return -1;
  TRY (guestfs_mount (g, "/dev/sdc2", "/"));
  TRY (usr_merged (62));
  TRY (guestfs_mkdir_p (g, "/boot"));
  TRY (guestfs_mount (g, "/dev/sdc1", "/boot"));
  TRY (put ("/boot/vmlinuz-6.5.0", "not a kernel\n"));
  TRY (guestfs_mount (g, "/dev/sdc3", "/var"));
  TRY (guestfs_mkdir_p (g, "/var/lib/dpkg"));
  TRY (put ("/var/lib/dpkg/status",
            "Package: ubuntu-minimal\nStatus: install ok installed\n"
            "Architecture: amd64\nVersion: 1.481\n"
            "Description: Minimal core of Ubuntu\n\n"
            "Package: openssl\nStatus: install ok installed\n"
            "Architecture: amd64\nVersion: 3.0.2-0ubuntu1.10\n"
            "Description: Secure Sockets Layer toolkit\n"));
  TRY (put ("/etc/os-release",
            "NAME=\"Ubuntu\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\n"
            "ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\n"
            "VERSION_ID=\"22.04\"\n"));
  TRY (put ("/etc/hostname", "ubuntu-box\n"));
  TRY (putf ("/etc/fstab",
             "/dev/vdc2 / ext4 errors=remount-ro 0 1\n"
             "LABEL=UBOOT /boot ext4 defaults 0 2\n"
             "UUID=%s /var ext4 defaults 0 2\n"
             "/dev/disk/by-uuid/" SWAP_UUID " none swap sw 0 0\n"
             "proc /proc proc defaults 0 0\n", ubuntu_var_uuid));
  return guestfs_umount_all (g);
}

/* ---- rpm headers and databases ---- */

struct rpmh {
  unsigned char b[8192];
  size_t n;
};

static void
be32 (unsigned char *p, uint32_t v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* An rpm header blob: NAME VERSION RELEASE [EPOCH] ARCH SUMMARY [DESCRIPTION]. */
static void
rpm_header (struct rpmh *h, const char *name, const char *ver, const char *rel,
            int epoch, const char *arch, const char *summary, const char *desc)
{
  struct { uint32_t tag, type; const char *s; } e[] = {
    { 1000, 6, name }, { 1001, 6, ver }, { 1002, 6, rel },
    { 1022, 6, arch }, { 1004, 9, summary }, { 1005, 9, desc },
  };
  unsigned char data[6000];
  uint32_t il = 0, dl = 0, n = 0;
  unsigned char *ents = h->b + 8;

  if (epoch >= 0) {
    be32 (ents, 1003); be32 (ents + 4, 4); be32 (ents + 8, 0); be32 (ents + 12, 1);
    be32 (data, (uint32_t) epoch);
    dl = 4;
    il++;
  }
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    if (e[i].s == NULL)
      continue;
    n = (uint32_t) strlen (e[i].s) + 1;
    be32 (ents + il * 16, e[i].tag); be32 (ents + il * 16 + 4, e[i].type);
    be32 (ents + il * 16 + 8, dl); be32 (ents + il * 16 + 12, 1);
    memcpy (data + dl, e[i].s, n);
    dl += n;
    il++;
  }
  be32 (h->b, il);
  be32 (h->b + 4, dl);
  memcpy (h->b + 8 + il * 16, data, dl);
  h->n = 8 + il * 16 + dl;
}

/* An SQLite rpmdb on the host, as rpm makes it (WAL mode). */
static int
make_sqlite_rpmdb (const char *path)
{
  struct rpmh h;
  sqlite3 *db;
  sqlite3_stmt *st;
  int r = 0;

  unlink (path);
  if (sqlite3_open (path, &db) != SQLITE_OK ||
      sqlite3_exec (db, "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT,"
                    " blob BLOB NOT NULL);", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "INSERT INTO Packages (blob) VALUES (?)", -1,
                          &st, NULL) != SQLITE_OK)
    return -1;
  for (int i = 0; i < 3 && r == 0; i++) {
    if (i == 0)
      rpm_header (&h, "bash", "5.2.21", "1.fc39", -1, "aarch64",
                  "The GNU Bourne Again shell", "Bash is a shell.");
    else if (i == 1)
      rpm_header (&h, "kernel-core", "6.5.6", "300.fc39", -1, "aarch64",
                  "The Linux kernel", NULL);
    else
      rpm_header (&h, "shadow-utils", "4.14.0", "2.fc39", 2, "aarch64",
                  "Utilities for managing accounts", NULL);
    sqlite3_bind_blob (st, 1, h.b, (int) h.n, SQLITE_TRANSIENT);
    r = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset (st);
  }
  /* A record that is not an rpm header: skipped with a warning. */
  sqlite3_bind_blob (st, 1, "junk", 4, SQLITE_STATIC);
  sqlite3_step (st);
  sqlite3_finalize (st);
  return sqlite3_close (db) == SQLITE_OK ? r : -1;
}

static int
build_fedora (void)
{
  char *pvs[] = { "/dev/sdd2", NULL };
  const char *db = "tests/out/inspect-rpmdb.sqlite";

  TRY (guestfs_part_init (g, "/dev/sdd", "msdos"));
  TRY (guestfs_part_add (g, "/dev/sdd", "p", 2048, 18431));
  TRY (guestfs_part_add (g, "/dev/sdd", "p", 18432, 131071));
  TRY (guestfs_mkfs (g, "ext4", "/dev/sdd1"));
  if ((fedora_boot_uuid = guestfs_get_e2uuid (g, "/dev/sdd1")) == NULL)
    return -1;
  TRY (guestfs_pvcreate (g, "/dev/sdd2"));
  TRY (guestfs_vgcreate (g, "fedora", pvs));
  TRY (guestfs_lvcreate (g, "root", "fedora", 24));
  TRY (guestfs_lvcreate (g, "var", "fedora", 16));
  TRY (guestfs_mkfs (g, "ext4", "/dev/fedora/root"));
  TRY (guestfs_mkfs (g, "ext4", "/dev/fedora/var"));
  TRY (guestfs_mount (g, "/dev/fedora/root", "/"));
  TRY (usr_merged (183));                               /* aarch64 */
  TRY (guestfs_mkdir_p (g, "/boot"));
  TRY (guestfs_mount (g, "/dev/fedora/var", "/var"));
  TRY (guestfs_mkdir_p (g, "/var/lib/rpm"));
  TRY (make_sqlite_rpmdb (db));
  TRY (guestfs_upload (g, db, "/var/lib/rpm/rpmdb.sqlite"));
  unlink (db);
  TRY (put ("/etc/os-release",
            "NAME=\"Fedora Linux\"\nVERSION=\"39 (Server Edition)\"\nID=fedora\n"
            "VERSION_ID=39\nPRETTY_NAME=\"Fedora Linux 39 (Server Edition)\"\n"));
  TRY (put ("/etc/redhat-release", "Fedora release 39 (Thirty Nine)\n"));
  TRY (put ("/etc/hostname", "fedora.example.org\n"));
  TRY (putf ("/etc/fstab",
             "/dev/mapper/fedora-root / ext4 defaults 1 1\n"
             "UUID=%s /boot ext4 defaults 1 2\n"
             "/dev/fedora/var /var ext4 defaults 1 2\n", fedora_boot_uuid));
  return guestfs_umount_all (g);
}

static int
build_alpine (void)
{
  TRY (guestfs_mkfs (g, "ext4", "/dev/sde"));
  TRY (guestfs_mount (g, "/dev/sde", "/"));
  TRY (guestfs_mkdir_p (g, "/etc"));
  TRY (guestfs_mkdir_p (g, "/bin"));
  TRY (guestfs_mkdir_p (g, "/lib/apk/db"));
  TRY (put_elf ("/bin/busybox", 62, 0));
  TRY (guestfs_ln_s (g, "/bin/busybox", "/bin/ls"));
  TRY (put ("/etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"
            "PRETTY_NAME=\"Alpine Linux v3.19\"\n"));
  TRY (put ("/etc/alpine-release", "3.19.1\n"));
  TRY (put ("/etc/hostname", "alpine1\n"));
  TRY (put ("/etc/fstab", "/dev/vde / ext4 rw,relatime 0 1\n"));
  TRY (put ("/lib/apk/db/installed",
            "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:383152\n"
            "T:the musl c library (libc) implementation\n"
            "U:https://musl.libc.org/\nL:MIT\no:musl\n\n"
            "P:busybox\nV:1.36.1-r15\nA:x86_64\n"
            "T:Size optimized toolbox of many common UNIX utilities\n"
            "U:https://busybox.net/\no:busybox\n"));
  return guestfs_umount_all (g);
}

static int
build_arch (void)
{
  TRY (one_partition ("/dev/sdf", "ext4"));
  if ((arch_uuid = guestfs_get_e2uuid (g, "/dev/sdf1")) == NULL)
    return -1;
  TRY (usr_merged (62));
  TRY (guestfs_mkdir_p (g, "/var/lib/pacman/local/linux-6.6.8.arch1-1"));
  TRY (guestfs_mkdir_p (g, "/var/lib/pacman/local/iptables-1:1.8.10-1"));
  TRY (put ("/var/lib/pacman/local/ALPM_DB_VERSION", "9\n"));
  TRY (put ("/var/lib/pacman/local/linux-6.6.8.arch1-1/desc",
            "%NAME%\nlinux\n\n%VERSION%\n6.6.8.arch1-1\n\n%BASE%\nlinux\n\n"
            "%DESC%\nThe Linux kernel and modules\n\n"
            "%URL%\nhttps://github.com/archlinux/linux\n\n%ARCH%\nx86_64\n\n"));
  TRY (put ("/var/lib/pacman/local/iptables-1:1.8.10-1/desc",
            "%NAME%\niptables\n\n%VERSION%\n1:1.8.10-1\n\n"
            "%DESC%\nLinux kernel packet control tool\n\n%ARCH%\nx86_64\n"));
  TRY (put ("/etc/os-release",
            "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n"
            "BUILD_ID=rolling\nANSI_COLOR=\"38;2;23;147;209\"\n"));
  TRY (put ("/etc/hostname", "archie\n"));
  TRY (putf ("/etc/fstab", "UUID=%s / ext4 rw,relatime 0 1\n", arch_uuid));
  return guestfs_umount_all (g);
}

/* A Berkeley DB hash Packages file made by db_load: key 0 (rpm's
 * counter), one small header (kept on its hash page) and one with a
 * long description (on overflow pages).  -1 if db_load is missing. */
static int
make_bdb_rpmdb (const char *path)
{
  static const char *const loaders[] = { "/usr/bin/db_load", "/usr/bin/db5.3_load", NULL };
  const char *loader = NULL;
  char dump[] = "tests/out/inspect-bdb-XXXXXX", *cmd, longdesc[3001];
  struct rpmh h;
  FILE *fp;
  int fd, r;

  for (size_t i = 0; loaders[i]; i++)
    if (access (loaders[i], X_OK) == 0)
      loader = loaders[i];
  if (loader == NULL || (fd = mkstemp (dump)) == -1 || (fp = fdopen (fd, "w")) == NULL)
    return -1;
  fprintf (fp, "VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\n"
           "HEADER=END\n 00000000\n 03000000\n");
  memset (longdesc, 'x', 3000);
  longdesc[3000] = '\0';
  for (int i = 1; i <= 2; i++) {
    if (i == 1)
      rpm_header (&h, "zypper", "1.14.64", "150500.1.2", -1, "x86_64",
                  "Command line software manager", NULL);
    else
      rpm_header (&h, "glibc", "2.31", "150300.63.1", -1, "x86_64",
                  "Standard Shared Libraries", longdesc);
    fprintf (fp, " %02x000000\n ", i);
    for (size_t j = 0; j < h.n; j++)
      fprintf (fp, "%02x", h.b[j]);
    fprintf (fp, "\n");
  }
  fprintf (fp, "DATA=END\n");
  fclose (fp);
  unlink (path);
  cmd = fmt ("%s -f %s %s", loader, dump, path);
  r = system (cmd) == 0 ? 0 : -1;
  free (cmd);
  unlink (dump);
  return r;
}

static int
build_suse (void)
{
  const char *db = "tests/out/inspect-Packages.bdb";

  TRY (one_partition ("/dev/sdg", "ext4"));
  TRY (usr_merged (62));
  TRY (guestfs_mkdir_p (g, "/var/lib/rpm"));
  if (make_bdb_rpmdb (db) == 0) {
    have_bdb = 1;
    TRY (guestfs_upload (g, db, "/var/lib/rpm/Packages"));
    unlink (db);
  }
  TRY (put ("/etc/os-release",
            "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\n"
            "ID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.5\"\n"
            "PRETTY_NAME=\"openSUSE Leap 15.5\"\n"));
  TRY (put ("/etc/HOSTNAME", "suse15.site\n"));
  TRY (put ("/etc/fstab", "/dev/sdg1 / ext4 defaults 0 1\n"));
  return guestfs_umount_all (g);
}

static int
build_centos_messy (void)
{
  char longline[5001];

  memset (longline, 'a', 5000);
  longline[5000] = '\0';
  TRY (one_partition ("/dev/sdh", "ext4"));
  TRY (guestfs_mkdir_p (g, "/etc/sysconfig"));
  TRY (guestfs_mkdir_p (g, "/var/lib/rpm"));
  TRY (guestfs_mkdir_p (g, "/usr/bin"));
  TRY (put ("/etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n"));
  TRY (put ("/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=centos7.example.com\n"));
  TRY (putf ("/etc/fstab",
             "# broken on purpose\n"
             "/dev/sdh1 / ext4 defaults 0 0\n"
             "this-line-is-garbage\n"
             "UUID=00000000-dead-beef-0000-000000000000 /data ext4 defaults 0 0\n"
             "/dev/sdh1 /../../etc ext4 defaults 0 0\n"
             "\x01\x02\xff\xfe binary junk\n"
             "tmpfs /tmp tmpfs defaults 0 0\n"
             "%s\n", longline));
  TRY (put ("/var/lib/rpm/Packages", "this is not a Berkeley DB file at all, "
            "but it is long enough to be looked at ..................\n"));
  return guestfs_umount_all (g);
}

static int
build_unknown (void)
{
  TRY (one_partition ("/dev/sdi", "ext4"));
  TRY (usr_merged (62));
  TRY (guestfs_mkdir_p (g, "/var/lib/dpkg"));
  TRY (put ("/etc/os-release",
            "NAME=\"FrobOS\"\nID=frobos\nID_LIKE=\"debian\"\n"
            "VERSION_ID=\"3.1\"\nPRETTY_NAME=\"FrobOS 3.1 (Gizmo)\"\n"));
  TRY (put ("/etc/hostname", "bad host!name\n"));
  TRY (put ("/var/lib/dpkg/status",
            "\x01\x02\x03 garbage at the start\xff\xfe\n"
            "Package: frob-core\nStatus: install ok installed\n"
            "Architecture: amd64\nVersion: 3.1-1\nDescription: Frob core\n\n"
            "Status: install ok installed\nVersion: 1.0\n\n"
            "Package: half\nStatus: install ok installed\nVer"));
  return guestfs_umount_all (g);
}

/* ---- Checks ---- */

static void
t_not_launched (void)
{
  guestfs_h *h = guestfs_create ();
  struct guestfs_application_list *apps;

  CHECK (h != NULL, "create");
  th_quiet (h);
  CHECK (guestfs_inspect_os (h) == NULL, "inspect_os before launch");
  CHECK_ERR (h, "launch");
  CHECK (guestfs_inspect_get_type (h, "/dev/sda1") == NULL, "get_type before launch");
  CHECK_ERR (h, "inspect_get_type");
  CHECK (guestfs_inspect_get_major_version (h, "/dev/sda1") == -1, "major before launch");
  apps = guestfs_inspect_list_applications (h, "/dev/sda1");
  CHECK (apps == NULL, "list_applications before launch");
  CHECK (guestfs_inspect_mount_root (h, "/dev/sda1", 1) == -1, "mount_root before launch");
  CHECK_ERR (h, "launch");
  guestfs_close (h);
}

static void
t_no_results_yet (void)
{
  CHECK (guestfs_inspect_get_distro (g, "/dev/sda1") == NULL, "distro before inspect_os");
  CHECK_ERR (g, "inspect_os first");
  CHECK (guestfs_inspect_get_warnings (g, "/dev/sda1") == NULL, "warnings before inspect_os");
  CHECK (guestfs_inspect_mount_root (g, "/dev/sda1", 1) == -1, "mount_root before inspect_os");
}

static void
t_no_os (void)
{
  char **roots;

  CHECK (build_nothing () == 0, "building the data disk");
  /* Something mounted beforehand is unmounted by inspect_os. */
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  roots = guestfs_inspect_os (g);
  CHECK (roots != NULL, "inspect_os: %s", guestfs_last_error (g));
  CHECK (roots[0] == NULL, "an OS found on a data disk: %s", roots[0]);
  free (roots);
  roots = guestfs_mounts (g);
  CHECK (roots && roots[0] == NULL, "inspect_os left %s mounted", roots ? roots[0] : "?");
  free (roots);
  CHECK (guestfs_inspect_get_type (g, "/dev/sda1") == NULL, "a data disk is a root");
  CHECK_ERR (g, "not a root");
}

static void
t_build (void)
{
  CHECK (build_debian () == 0, "Debian image");
  CHECK (build_ubuntu () == 0, "Ubuntu image");
  CHECK (build_fedora () == 0, "Fedora image");
  CHECK (build_alpine () == 0, "Alpine image");
  CHECK (build_arch () == 0, "Arch image");
  CHECK (build_suse () == 0, "SUSE image");
  CHECK (build_centos_messy () == 0, "messy CentOS image");
  CHECK (build_unknown () == 0, "unknown distro image");
  CHECK (guestfs_sync (g) == 0, "sync");
}

static const char *const all_roots[] = { "/dev/sdb1", "/dev/sdc2",
  "/dev/fedora/root", "/dev/sde", "/dev/sdf1", "/dev/sdg1", "/dev/sdh1",
  "/dev/sdi1", NULL };

static void
t_inspect_os (void)
{
  char **roots = guestfs_inspect_os (g);
  size_t n = 0;

  CHECK (roots != NULL, "inspect_os: %s", guestfs_last_error (g));
  for (size_t i = 0; all_roots[i]; i++)
    CHECK (th_has (roots, all_roots[i]), "root %s not found", all_roots[i]);
  n = th_count (roots);
  CHECK (n == 8, "%zu roots", n);
  th_count_free (roots);
}

/* Compare one string getter; frees the result. */
#define CHECK_STR(call, want)                                           \
  do {                                                                  \
    char *s_ = (call);                                                  \
    int ok_ = s_ && strcmp (s_, want) == 0;                             \
    if (!ok_) {                                                         \
      printf ("FAIL: %s: %s:%d: %s = '%s', want '%s' (%s)\n", th_name,  \
              __FILE__, __LINE__, #call, s_ ? s_ : "NULL", want,        \
              s_ ? "" : guestfs_last_error (g));                        \
      fflush (stdout);                                                  \
      th_failed++;                                                      \
      free (s_);                                                        \
      return;                                                           \
    }                                                                   \
    free (s_);                                                          \
  } while (0)

/* type distro product major minor arch hostname format management */
static void
check_os (const char *root, const char *type, const char *distro,
          const char *product, int major, int minor, const char *arch,
          const char *host, const char *pfmt, const char *pmgmt)
{
  int a, b;

  CHECK_STR (guestfs_inspect_get_type (g, root), type);
  CHECK_STR (guestfs_inspect_get_distro (g, root), distro);
  CHECK_STR (guestfs_inspect_get_product_name (g, root), product);
  a = guestfs_inspect_get_major_version (g, root);
  b = guestfs_inspect_get_minor_version (g, root);
  CHECK (a == major && b == minor, "%s: version %d.%d, want %d.%d", root, a, b,
         major, minor);
  CHECK_STR (guestfs_inspect_get_arch (g, root), arch);
  CHECK_STR (guestfs_inspect_get_hostname (g, root), host);
  CHECK_STR (guestfs_inspect_get_package_format (g, root), pfmt);
  CHECK_STR (guestfs_inspect_get_package_management (g, root), pmgmt);
  CHECK_STR (guestfs_inspect_get_format (g, root), "installed");
  CHECK (guestfs_inspect_is_live (g, root) == 0, "%s: is_live", root);
}

static struct guestfs_application *
find_app (struct guestfs_application_list *l, const char *name)
{
  for (uint32_t i = 0; l && i < l->len; i++)
    if (strcmp (l->val[i].app_name, name) == 0)
      return &l->val[i];
  return NULL;
}

static size_t
count_warnings (const char *root)
{
  return th_count_free (guestfs_inspect_get_warnings (g, root));
}

static void
print_warnings (const char *root)
{
  char **w = guestfs_inspect_get_warnings (g, root);
  for (size_t i = 0; w && w[i]; i++)
    printf ("  %s warning: %s\n", root, w[i]);
  th_count_free (w);
}

static void
t_debian (void)
{
  struct guestfs_application_list *l;
  struct guestfs_application *a;
  char **m;

  check_os ("/dev/sdb1", "linux", "debian", "Debian GNU/Linux 12 (bookworm)",
            12, 5, "x86_64", "debian12", "deb", "apt");
  m = guestfs_inspect_get_mountpoints (g, "/dev/sdb1");
  CHECK (m && m[0] && strcmp (m[0], "/") == 0 && strcmp (m[1], "/dev/sdb1") == 0 &&
         m[2] == NULL, "mountpoints");
  th_count_free (m);
  l = guestfs_inspect_list_applications (g, "/dev/sdb1");
  CHECK (l != NULL, "list_applications: %s", guestfs_last_error (g));
  CHECK (l->len == 3, "%u applications, want 3 (removed-pkg is not installed)", l->len);
  CHECK (strcmp (l->val[0].app_name, "bash") == 0 &&
         strcmp (l->val[1].app_name, "libc6") == 0 &&
         strcmp (l->val[2].app_name, "vim") == 0, "not sorted by name");
  a = &l->val[0];
  CHECK (strcmp (a->app_version, "5.2.15") == 0 && strcmp (a->app_release, "2+b2") == 0 &&
         a->app_epoch == 0 && strcmp (a->app_arch, "amd64") == 0, "bash version fields");
  CHECK (strcmp (a->app_summary, "GNU Bourne Again SHell") == 0, "summary '%s'", a->app_summary);
  CHECK (strcmp (a->app_description, "Bash is an sh-compatible command language "
                 "interpreter.\n\nMore text.") == 0, "description '%s'", a->app_description);
  CHECK (strstr (a->app_url, "tiswww") != NULL, "url");
  CHECK (strcmp (l->val[1].app_source_package, "glibc") == 0, "libc6 source");
  a = &l->val[2];
  CHECK (a->app_epoch == 2 && strcmp (a->app_version, "9.0.1378") == 0 &&
         strcmp (a->app_release, "2") == 0 && strcmp (a->app_source_package, "vim") == 0,
         "vim: %d %s %s %s", a->app_epoch, a->app_version, a->app_release,
         a->app_source_package);
  guestfs_free_application_list (l);
  if (count_warnings ("/dev/sdb1") != 0)
    print_warnings ("/dev/sdb1");
  CHECK (count_warnings ("/dev/sdb1") == 0, "a clean Debian has warnings");
}

static void
t_ubuntu (void)
{
  struct guestfs_application_list *l;
  char **m, **f;

  check_os ("/dev/sdc2", "linux", "ubuntu", "Ubuntu 22.04.3 LTS", 22, 4, "x86_64",
            "ubuntu-box", "deb", "apt");
  m = guestfs_inspect_get_mountpoints (g, "/dev/sdc2");
  CHECK (m != NULL, "mountpoints: %s", guestfs_last_error (g));
  CHECK (m[0] && strcmp (m[0], "/") == 0 && strcmp (m[1], "/dev/sdc2") == 0 &&
         m[2] && strcmp (m[2], "/boot") == 0 && strcmp (m[3], "/dev/sdc1") == 0 &&
         m[4] && strcmp (m[4], "/var") == 0 && strcmp (m[5], "/dev/sdc3") == 0 &&
         m[6] == NULL, "mountpoints: %s %s %s %s", m[0], m[1], m[2] ? m[2] : "", m[3] ? m[3] : "");
  th_count_free (m);
  f = guestfs_inspect_get_filesystems (g, "/dev/sdc2");
  CHECK (f && th_has (f, "/dev/sdc1") && th_has (f, "/dev/sdc2") && th_has (f, "/dev/sdc3") &&
         th_has (f, "/dev/sdc4"), "filesystems lack one of sdc1-4 (swap by uuid)");
  CHECK (!th_has (f, "/dev/sdb1"), "another OS's filesystem listed");
  th_count_free (f);
  l = guestfs_inspect_list_applications (g, "/dev/sdc2");
  CHECK (l != NULL && l->len == 2, "apps from the separate /var: %s",
         l ? "wrong count" : guestfs_last_error (g));
  CHECK (find_app (l, "openssl") && strcmp (find_app (l, "openssl")->app_version,
                                            "3.0.2") == 0, "openssl");
  guestfs_free_application_list (l);
  if (count_warnings ("/dev/sdc2") != 0)
    print_warnings ("/dev/sdc2");
  CHECK (count_warnings ("/dev/sdc2") == 0, "warnings on a clean Ubuntu");
}

static void
t_fedora (void)
{
  struct guestfs_application_list *l;
  struct guestfs_application *a;
  char **m, **w;

  check_os ("/dev/fedora/root", "linux", "fedora", "Fedora Linux 39 (Server Edition)",
            39, 0, "aarch64", "fedora.example.org", "rpm", "dnf");
  m = guestfs_inspect_get_mountpoints (g, "/dev/fedora/root");
  CHECK (m && m[0] && strcmp (m[1], "/dev/fedora/root") == 0 && m[2] &&
         strcmp (m[2], "/boot") == 0 && strcmp (m[3], "/dev/sdd1") == 0 && m[4] &&
         strcmp (m[4], "/var") == 0 && strcmp (m[5], "/dev/fedora/var") == 0,
         "mountpoints");
  th_count_free (m);
  l = guestfs_inspect_list_applications (g, "/dev/fedora/root");
  CHECK (l != NULL, "list_applications: %s", guestfs_last_error (g));
  CHECK (l->len == 3, "%u rpm applications", l->len);
  a = find_app (l, "shadow-utils");
  CHECK (a && a->app_epoch == 2 && strcmp (a->app_version, "4.14.0") == 0 &&
         strcmp (a->app_release, "2.fc39") == 0 && strcmp (a->app_arch, "aarch64") == 0,
         "shadow-utils fields");
  a = find_app (l, "bash");
  CHECK (a && strcmp (a->app_summary, "The GNU Bourne Again shell") == 0 &&
         strcmp (a->app_description, "Bash is a shell.") == 0, "bash summary");
  guestfs_free_application_list (l);
  w = guestfs_inspect_get_warnings (g, "/dev/fedora/root");
  CHECK (has_sub (w, "not rpm headers"), "the junk rpmdb record gave no warning");
  th_count_free (w);
}

static void
t_alpine (void)
{
  struct guestfs_application_list *l;
  struct guestfs_application *a;

  check_os ("/dev/sde", "linux", "alpinelinux", "Alpine Linux v3.19", 3, 19,
            "x86_64", "alpine1", "apk", "apk");
  l = guestfs_inspect_list_applications (g, "/dev/sde");
  CHECK (l && l->len == 2, "apk applications: %s", l ? "wrong count" : guestfs_last_error (g));
  a = find_app (l, "busybox");
  CHECK (a && strcmp (a->app_version, "1.36.1") == 0 && strcmp (a->app_release, "r15") == 0 &&
         strcmp (a->app_url, "https://busybox.net/") == 0, "busybox fields");
  a = find_app (l, "musl");
  CHECK (a && strcmp (a->app_version, "1.2.4_git20230717") == 0 &&
         strcmp (a->app_summary, "the musl c library (libc) implementation") == 0, "musl");
  guestfs_free_application_list (l);
  CHECK (count_warnings ("/dev/sde") == 0, "warnings on Alpine");
}

static void
t_arch (void)
{
  struct guestfs_application_list *l;
  struct guestfs_application *a;

  check_os ("/dev/sdf1", "linux", "archlinux", "Arch Linux", 0, 0, "x86_64",
            "archie", "pacman", "pacman");
  l = guestfs_inspect_list_applications (g, "/dev/sdf1");
  CHECK (l && l->len == 2, "pacman applications: %s", l ? "wrong count" : guestfs_last_error (g));
  a = find_app (l, "iptables");
  CHECK (a && a->app_epoch == 1 && strcmp (a->app_version, "1.8.10") == 0 &&
         strcmp (a->app_release, "1") == 0, "iptables epoch/version");
  a = find_app (l, "linux");
  CHECK (a && strcmp (a->app_version, "6.6.8.arch1") == 0 &&
         strcmp (a->app_source_package, "linux") == 0 &&
         strcmp (a->app_arch, "x86_64") == 0, "linux fields");
  guestfs_free_application_list (l);
  CHECK (count_warnings ("/dev/sdf1") == 0, "warnings on Arch");
}

static void
t_suse (void)
{
  struct guestfs_application_list *l;
  struct guestfs_application *a;

  check_os ("/dev/sdg1", "linux", "opensuse", "openSUSE Leap 15.5", 15, 5, "x86_64",
            "suse15.site", "rpm", "zypper");
  l = guestfs_inspect_list_applications (g, "/dev/sdg1");
  CHECK (l != NULL, "list_applications: %s", guestfs_last_error (g));
  if (!have_bdb) {
    guestfs_free_application_list (l);
    th_skip ("inspect-suse-bdb-rpmdb", "no db_load on this host to make one");
    return;
  }
  CHECK (l->len == 2, "%u applications from the Berkeley DB rpmdb", l->len);
  a = find_app (l, "glibc");
  CHECK (a && strlen (a->app_description) == 3000 && strcmp (a->app_version, "2.31") == 0,
         "glibc (a header on overflow pages)");
  a = find_app (l, "zypper");
  CHECK (a && strcmp (a->app_release, "150500.1.2") == 0, "zypper release");
  guestfs_free_application_list (l);
  if (count_warnings ("/dev/sdg1") != 0)
    print_warnings ("/dev/sdg1");
  CHECK (count_warnings ("/dev/sdg1") == 0, "warnings on SUSE");
}

static void
t_centos_messy (void)
{
  struct guestfs_application_list *l;
  char **w, **m;

  check_os ("/dev/sdh1", "linux", "centos", "CentOS Linux release 7.9.2009 (Core)",
            7, 9, "unknown", "centos7.example.com", "rpm", "yum");
  m = guestfs_inspect_get_mountpoints (g, "/dev/sdh1");
  CHECK (m && m[0] && strcmp (m[0], "/") == 0 && m[2] == NULL,
         "mountpoints of a bad fstab: only / is usable");
  th_count_free (m);
  l = guestfs_inspect_list_applications (g, "/dev/sdh1");
  CHECK (l != NULL && l->len == 0, "apps from a corrupt rpmdb: %s",
         l ? "some" : guestfs_last_error (g));
  guestfs_free_application_list (l);
  w = guestfs_inspect_get_warnings (g, "/dev/sdh1");
  CHECK (w != NULL, "warnings: %s", guestfs_last_error (g));
  CHECK (has_sub (w, "no /etc/os-release"), "no warning about os-release");
  CHECK (has_sub (w, "fewer than 3 fields"), "no warning about the garbage line");
  CHECK (has_sub (w, "no such filesystem"), "no warning about the missing UUID");
  CHECK (has_sub (w, "bad mount point"), "no warning about /../../etc");
  CHECK (has_sub (w, "too long"), "no warning about the long line");
  CHECK (has_sub (w, "architecture unknown"), "no warning about the architecture");
  CHECK (has_sub (w, "not a Berkeley DB"), "no warning about the rpm database");
  th_count_free (w);
}

static void
t_unknown (void)
{
  struct guestfs_application_list *l;
  char **w;

  check_os ("/dev/sdi1", "linux", "unknown", "FrobOS 3.1 (Gizmo)", 3, 1, "x86_64",
            "unknown", "deb", "apt");
  l = guestfs_inspect_list_applications (g, "/dev/sdi1");
  CHECK (l && l->len == 1 && strcmp (l->val[0].app_name, "frob-core") == 0,
         "apps from a corrupt dpkg status: %s", l ? "wrong" : guestfs_last_error (g));
  guestfs_free_application_list (l);
  w = guestfs_inspect_get_warnings (g, "/dev/sdi1");
  CHECK (has_sub (w, "unknown distribution ID 'frobos'"), "no warning about the ID");
  CHECK (has_sub (w, "no readable /etc/fstab"), "no warning about the fstab");
  CHECK (has_sub (w, "not a usable host name"), "no warning about the host name");
  th_count_free (w);
}

static void
t_mount_root (void)
{
  char **mp;
  struct guestfs_application_list *l;
  char *s;

  CHECK (guestfs_inspect_mount_root (g, "/dev/sdc2", 1) == 0, "mount_root ro: %s",
         guestfs_last_error (g));
  mp = guestfs_mountpoints (g);
  CHECK (mp && th_count_free (mp) == 6, "ro: not three filesystems mounted");
  CHECK (guestfs_is_file (g, "/boot/vmlinuz-6.5.0") == 1, "/boot not mounted");
  CHECK (guestfs_is_file (g, "/var/lib/dpkg/status") == 1, "/var not mounted");
  CHECK (guestfs_touch (g, "/var/x") == -1, "read-only /var is writable");
  /* The applications of the mounted OS come from what is mounted. */
  l = guestfs_inspect_list_applications (g, "/dev/sdc2");
  CHECK (l && l->len == 2, "apps while mounted: %s", l ? "wrong count" : guestfs_last_error (g));
  guestfs_free_application_list (l);
  CHECK (guestfs_inspect_list_applications (g, "/dev/sdb1") == NULL,
         "apps of another OS while this one is mounted");
  CHECK_ERR (g, "other filesystems are mounted");
  /* Read-write, and it replaces what was mounted. */
  CHECK (guestfs_inspect_mount_root (g, "/dev/fedora/root", 0) == 0, "mount_root rw: %s",
         guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/var/lib/rpm/marker", "x", 0) == 0,
         "write into the rw /var: %s", guestfs_last_error (g));
  CHECK (guestfs_umount (g, "/var") == 0, "umount /var");
  CHECK (guestfs_exists (g, "/var/lib/rpm/marker") == 0, "marker went to the root LV");
  s = guestfs_cat (g, "/etc/hostname");
  CHECK (s && strcmp (s, "fedora.example.org\n") == 0, "root LV on /");
  free (s);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_inspect_mount_root (g, "/dev/sda1", 1) == -1, "mount_root of a non-root");
  CHECK_ERR (g, "inspect_mount_root");
  CHECK_ERR (g, "/dev/sda1");
}

/* Every call on something that is not a root: a clear error. */
static void
t_errors (void)
{
  const char *bad = "/dev/sda1";

  CHECK (guestfs_inspect_get_type (g, bad) == NULL, "get_type");
  CHECK_ERR (g, "inspect_get_type: /dev/sda1: not a root");
  CHECK (guestfs_inspect_get_distro (g, bad) == NULL, "get_distro");
  CHECK_ERR (g, "inspect_get_distro");
  CHECK (guestfs_inspect_get_product_name (g, bad) == NULL, "get_product_name");
  CHECK_ERR (g, "inspect_get_product_name");
  CHECK (guestfs_inspect_get_major_version (g, bad) == -1, "major");
  CHECK_ERR (g, "inspect_get_major_version");
  CHECK (guestfs_inspect_get_minor_version (g, bad) == -1, "minor");
  CHECK_ERR (g, "inspect_get_minor_version");
  CHECK (guestfs_inspect_get_arch (g, bad) == NULL, "arch");
  CHECK_ERR (g, "inspect_get_arch");
  CHECK (guestfs_inspect_get_hostname (g, bad) == NULL, "hostname");
  CHECK_ERR (g, "inspect_get_hostname");
  CHECK (guestfs_inspect_get_package_format (g, bad) == NULL, "package_format");
  CHECK_ERR (g, "inspect_get_package_format");
  CHECK (guestfs_inspect_get_package_management (g, bad) == NULL, "package_management");
  CHECK_ERR (g, "inspect_get_package_management");
  CHECK (guestfs_inspect_get_mountpoints (g, bad) == NULL, "mountpoints");
  CHECK_ERR (g, "inspect_get_mountpoints");
  CHECK (guestfs_inspect_get_filesystems (g, bad) == NULL, "filesystems");
  CHECK_ERR (g, "inspect_get_filesystems");
  CHECK (guestfs_inspect_list_applications (g, bad) == NULL, "list_applications");
  CHECK_ERR (g, "inspect_list_applications");
  CHECK (guestfs_inspect_is_live (g, bad) == -1, "is_live");
  CHECK_ERR (g, "inspect_is_live");
  CHECK (guestfs_inspect_get_format (g, bad) == NULL, "format");
  CHECK_ERR (g, "inspect_get_format");
  CHECK (guestfs_inspect_get_warnings (g, bad) == NULL, "warnings");
  CHECK_ERR (g, "inspect_get_warnings");
  CHECK (guestfs_inspect_get_type (g, NULL) == NULL, "NULL root accepted");
  CHECK_ERR (g, "must not be NULL");
}

/* ---- Out of memory ---- */

static void
oom_exit (void)
{
  _exit (3);
}

/* In a child (the handle's memory is copied; the child never touches the
 * appliance unless call does, and never closes the handle), arm
 * GUESTKIT_FAULT=alloc:n and run call.  Returns the child's exit status
 * (3: the out-of-memory handler ran), or -1 if a signal ended it. */
static int
in_child_with_alloc_fault (int n, void (*call) (void))
{
  char spec[32];
  int status;
  pid_t pid;

  fflush (stdout);
  if ((pid = fork ()) == 0) {
    guestfs_set_out_of_memory_handler (g, oom_exit);
    snprintf (spec, sizeof spec, "alloc:%d", n);
    setenv ("GUESTKIT_FAULT", spec, 1);
    call ();
    _exit (0);
  }
  if (pid == -1 || waitpid (pid, &status, 0) != pid)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
get_filesystems (void)
{
  char **l = guestfs_inspect_get_filesystems (g, "/dev/sdg1");
  (void) l;
}

static void
inspect_os (void)
{
  char **l = guestfs_inspect_os (g);
  (void) l;
}

/* Inspection's own allocations go through the handle's out-of-memory
 * handler (and GUESTKIT_FAULT=alloc:N reaches them): the first one made
 * by a getter fails and the handler runs, instead of an abort() or an
 * allocation the fault cannot reach.  inspect_os with a fault at several
 * points ends by the handler or completes, never by a signal.  Runs
 * last: the children share the appliance's channel. */
static void
t_alloc_fault (void)
{
  int st = in_child_with_alloc_fault (1, get_filesystems);

  CHECK (st == 3, "inspect_get_filesystems with alloc:1: child status %d, "
         "want 3 (the out-of-memory handler)", st);
  for (int n = 1; n <= 256; n *= 4) {
    st = in_child_with_alloc_fault (n, inspect_os);
    CHECK (st == 3 || st == 0, "inspect_os with alloc:%d: the child was "
           "killed by a signal or ended with %d", n, st);
  }
}

int
main (void)
{
  const char *imgs[NDISKS + 1];
  char name[16];

  for (int i = 0; i < NDISKS; i++) {
    snprintf (name, sizeof name, "inspect-%c", 'a' + i);
    imgs[i] = disks[i] = th_scratch (name, i == 2 || i == 3 ? 64 : 32);
  }
  imgs[NDISKS] = NULL;
  th_run ("inspect-before-launch", t_not_launched);
  th_name = "inspect-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("inspect-before-inspect-os", t_no_results_yet);
    th_run ("inspect-no-os", t_no_os);
    th_run ("inspect-build-images", t_build);
    th_run ("inspect-os-roots", t_inspect_os);
    th_run ("inspect-debian", t_debian);
    th_run ("inspect-ubuntu-boot-var-label-uuid", t_ubuntu);
    th_run ("inspect-fedora-lvm-sqlite-rpmdb", t_fedora);
    th_run ("inspect-alpine-whole-disk", t_alpine);
    th_run ("inspect-arch", t_arch);
    th_run ("inspect-suse-bdb-rpmdb", t_suse);
    th_run ("inspect-messy-centos", t_centos_messy);
    th_run ("inspect-unknown-distro", t_unknown);
    th_run ("inspect-mount-root", t_mount_root);
    th_run ("inspect-errors", t_errors);
    th_run ("inspect-alloc-fault", t_alloc_fault);
    guestfs_close (g);
  }
  for (int i = 0; i < NDISKS; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  free (debian_uuid);
  free (ubuntu_var_uuid);
  free (fedora_boot_uuid);
  free (arch_uuid);
  return th_done ();
}
