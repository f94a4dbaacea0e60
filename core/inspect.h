/* core/inspect.h: internals of inspection, shared by core/inspect*.c only
 * (the rest of core/ sees gk_inspect_free and the gk_impl_inspect_*
 * bodies in gk.h).
 *
 * Inspection runs in the library and reaches the guest only through the
 * public calls (list_partitions, lvs, vfs_type, mount_ro, pread, ...) and
 * three internal daemon calls that decode binary guest data in the
 * appliance: registry hives and rpm databases (guestd/inspect-hive.c,
 * guestd/inspect-rpm.c); the dpkg status comes parsed from the public
 * extension dpkg_packages (guestd/dpkg.c).  What is still parsed here is
 * text (os-release, fstab, the apk and pacman databases, ...) and ELF/PE
 * headers, each by a bounded parser that tests/fuzz/fuzz-inspect.c fuzzes.
 * Everything read from a guest is hostile: every read is bounded by one
 * of the caps below, every parser takes a length, and whatever cannot be
 * read or understood becomes a warning on that root, never an abort.
 *
 *   inspect.c          the public calls, the per-handle results, warnings
 *   inspect-fs.c       finding filesystems, bounded reads, fstab, mounting
 *   inspect-linux.c    what a Linux root is (os-release, release files, ...)
 *   inspect-windows.c  what a Windows root is (registry values from guestd)
 *   inspect-apps.c     installed packages: dpkg (rows from guestd), apk, pacman
 *   inspect-rpm.c      installed packages: the rpm database (rows from guestd)
 */
#ifndef GK_INSPECT_H
#define GK_INSPECT_H

#include <stdint.h>

#include "gk.h"

/* Caps on what is read from a guest. */
#define GK_SMALL_FILE_MAX (64 * 1024)            /* os-release, fstab, ... */
#define GK_DB_FILE_MAX (64 * 1024 * 1024)        /* dpkg status, apk db */
#define GK_MAX_WARNINGS 64                       /* per root */
#define GK_MAX_APPS 200000                       /* per root */
#define GK_MAX_FSTAB 512                         /* fstab entries kept */
#define GK_FIELD_MAX 4096                        /* one reported string */
#define GK_TEXT_MAX (64 * 1024)                  /* one long description */

/* A growable NULL-terminated string list: the one used by inspection. */
struct gk_strv {
  char **v;                    /* NULL-terminated once anything is added */
  size_t n, cap;
};
void gk_strv_add (struct gk_strv *l, const char *s);     /* copies s */
void gk_strv_take (struct gk_strv *l, char *s);          /* takes s */
int gk_strv_has (const struct gk_strv *l, const char *s);
char **gk_strv_copy (const struct gk_strv *l);           /* caller frees */
void gk_strv_free (struct gk_strv *l);

/* One filesystem found on the drives. */
struct gk_ifs {
  char *device;                /* /dev/sda1, /dev/VG/LV */
  char *type;                  /* blkid's name: ext4, xfs, swap, ... */
  char *label, *uuid;          /* as blkid finds them, "" when unknown */
};

/* One entry of an OS's fstab that names a filesystem we found. */
struct gk_mnt {
  char *mountpoint;            /* cleaned: absolute, no "..", no "//" */
  char *device;                /* one of the gk_ifs devices */
  char *vfstype;               /* the type blkid found */
};

/* One inspected operating system, named by its root filesystem. */
struct gk_ios {
  char *root;                  /* device of "/" */
  char *type, *distro, *product_name, *arch, *hostname;
  char *pkg_format, *pkg_mgmt, *format;   /* never NULL once inspected */
  int major, minor;
  char *systemroot;            /* Windows: "/Windows" as spelled on disk */
  struct gk_mnt *mnts;         /* mount order: "/" first, then by depth */
  size_t nmnts;
  struct gk_strv fss;          /* every device of the OS, swap included */
  struct gk_strv warnings;
};

/* The results of the last inspect_os on a handle. */
struct gk_inspect {
  struct gk_ifs *fs;
  size_t nfs;
  struct gk_ios *os;
  size_t nos;
};

/* A growable list of applications (inspect_list_applications). */
struct gk_apps {
  struct guestfs_application *v;
  size_t n, cap;
  int full;                    /* GK_MAX_APPS reached: the rest dropped */
};

/* inspect.c */
/* Allocation for inspection: never NULL; out of memory goes to the
 * handle's handlers (errors.c), as everywhere in the library. */
void *gk_inspect_realloc (void *p, size_t n);
char *gk_inspect_strdup (const char *s);
char *gk_inspect_strndup (const char *s, size_t n);
char *gk_inspect_asprintf (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));
void gk_inspect_warn (guestfs_h *g, struct gk_ios *os, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));     /* os may be NULL: debug only */
int gk_inspect_alive (guestfs_h *g);           /* appliance still READY? */
char *gk_inspect_clean (const char *s, size_t max);      /* caller frees */
void gk_inspect_set (char **field, const char *value, size_t max);
void gk_inspect_set_opt (char **field, const char *value, size_t max);  /* if *value */

/* inspect-fs.c */
int gk_inspect_find_filesystems (guestfs_h *g, struct gk_inspect *in);
const struct gk_ifs *gk_inspect_fs (const struct gk_inspect *in,
                                    const char *device);  /* not copied */
char *gk_inspect_read (guestfs_h *g, struct gk_ios *os, const char *path,
                       size_t cap, size_t *len_r);        /* caller frees */
void gk_inspect_fstab (guestfs_h *g, struct gk_inspect *in,
                       struct gk_ios *os, char *text);   /* text is modified */
int gk_inspect_mount_fs (guestfs_h *g, const char *device, const char *type,
                         const char *mountpoint, int readonly);
int gk_inspect_mount_os (guestfs_h *g, struct gk_ios *os, int readonly,
                         int (*want) (const char *mountpoint));

/* inspect-linux.c */
int gk_inspect_is_linux_root (guestfs_h *g);   /* 1 yes, 0 no, -1 appliance gone */
void gk_inspect_linux (guestfs_h *g, struct gk_ios *os);
char *gk_inspect_elf_arch (const unsigned char *h, size_t n); /* caller frees */

/* inspect-windows.c */
char *gk_inspect_windows_root (guestfs_h *g);  /* systemroot; caller frees */
void gk_inspect_windows (guestfs_h *g, struct gk_ios *os);
void gk_inspect_windows_apps (guestfs_h *g, struct gk_ios *os,
                              struct gk_apps *a);

/* inspect-apps.c */
struct guestfs_application *gk_apps_add (struct gk_apps *a); /* zeroed; NULL if full */
/* A package list that guestd sends as rows of `row' strings, a page at a
 * time: "P" ... one package (given to add, still hostile: clean it),
 * "W" MESSAGE a warning on the root, last "N" START: ask again from
 * START (which must advance).  page returns one page, caller frees. */
struct gk_pkg_rows {
  const char *path;            /* the database, named in warnings */
  size_t row;                  /* strings per row */
  char **(*page) (guestfs_h *g, const char *path, int start);
  void (*add) (struct gk_apps *a, char *const *row);
};
void gk_inspect_pkg_rows (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
                          const struct gk_pkg_rows *r);
void gk_inspect_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a);
void gk_inspect_split_evr (const char *evr, int32_t *epoch, char **version,
                           char **release);
void gk_inspect_parse_apk (struct gk_apps *a, char *text);     /* text is modified */
void gk_inspect_parse_pacman (struct gk_apps *a, char *text);

/* inspect-rpm.c */
void gk_inspect_rpm_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a);

#endif /* GK_INSPECT_H */
