/* guestd/inspect-hive.c: Windows registry hives, read for inspection.
 *
 * The library's Windows inspection (core/inspect-windows.c) needs a few
 * values from the SOFTWARE and SYSTEM hives of a guest.  A hive is guest
 * data, so it is decoded here with libhivex, inside the appliance, and
 * the library receives plain strings:
 *
 *   internal_hive_values HIVE KEY
 *       the values of one key, as a hashtable: name, value, ...  String
 *       values (REG_SZ, REG_EXPAND_SZ) as UTF-8, DWORDs in decimal; other
 *       types are left out.  A missing key gives an empty list.
 *   internal_hive_subkeys HIVE KEY NAMES
 *       one row per subkey of KEY: its name, then the value of each of
 *       NAMES ("" when missing or not a string), so rows have 1 + |NAMES|
 *       strings.  Rows stop (with an error) before the reply gets near
 *       the protocol's message limit.
 *
 * KEY is a backslash-separated path from the root, "" for the root
 * itself.  The hive is opened through paths.c (inside the sysroot, a
 * regular file only) and handed to libhivex as /proc/self/fd/N.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivex.h>

#include "guestd.h"

#define HIVE_FILE_MAX (512LL * 1024 * 1024)
#define KEY_MAX 1024                     /* a key path we look up */
#define VALUE_MAX (64 * 1024)            /* one value, cut after this */
#define REPLY_BUDGET (GK_MESSAGE_MAX / 2) /* bytes of strings per reply */

static hive_h *
open_hive (const char *path)
{
  char proc[64];
  hive_h *h;
  size_t size;
  int fd = gd_open_regular_max (path, HIVE_FILE_MAX, &size);

  if (fd == -1)
    return NULL;
  gd_fd_path (proc, sizeof proc, fd);
  h = hivex_open (proc, 0);
  if (h == NULL)
    reply_with_perror ("%s: not a registry hive libhivex can read", path);
  close (fd);                   /* hivex has its own fd or mapping */
  return h;
}

/* Follow a backslash-separated key path from the root; 0 if missing. */
static hive_node_h
find_key (hive_h *h, const char *key)
{
  char buf[KEY_MAX], *save = NULL;
  hive_node_h n = hivex_root (h);

  if (strlen (key) >= sizeof buf)
    return 0;
  strcpy (buf, key);
  for (char *k = strtok_r (buf, "\\", &save); k && n;
       k = strtok_r (NULL, "\\", &save))
    n = hivex_node_get_child (h, n, k);
  return n;
}

/* A value as text: strings as UTF-8, DWORDs in decimal; NULL otherwise. */
static char *
value_text (hive_h *h, hive_value_h v)
{
  hive_type t;
  size_t len;
  char *s;

  if (hivex_value_type (h, v, &t, &len) == -1)
    return NULL;
  if ((t == hive_t_REG_DWORD || t == hive_t_REG_DWORD_BIG_ENDIAN) && len == 4) {
    if (gd_mkstr (&s, "%u", (unsigned) hivex_value_dword (h, v)) == -1)
      return NULL;
    return s;
  }
  if (t != hive_t_REG_SZ && t != hive_t_REG_EXPAND_SZ)
    return NULL;
  s = hivex_value_string (h, v);
  if (s && strlen (s) > VALUE_MAX)
    s[VALUE_MAX] = '\0';
  return s;
}

static char **
values_of (hive_h *h, hive_node_h node)
{
  struct gd_strlist l = { 0 };
  hive_value_h *vs = hivex_node_values (h, node);
  const char *why = NULL;
  size_t bytes = 0;

  if (vs == NULL) {
    reply_with_perror ("reading the values of a key");
    return NULL;
  }
  for (size_t i = 0; vs[i] && why == NULL; i++) {
    char *name = hivex_value_key (h, vs[i]), *text;
    if (name == NULL || (text = value_text (h, vs[i])) == NULL) {
      free (name);
      continue;
    }
    bytes += strlen (name) + strlen (text) + 16;
    if (bytes > REPLY_BUDGET) {
      free (name);
      free (text);
      why = "too many values in one key for one reply";
    } else if (gd_strlist_take (&l, name) == -1) {
      free (text);
      why = "out of memory";
    } else if (gd_strlist_take (&l, text) == -1)
      why = "out of memory";
  }
  free (vs);
  if (why) {
    gd_strlist_free (&l);
    reply_with_error ("%s", why);
    return NULL;
  }
  return gd_strlist_end (&l);
}

char **
do_internal_hive_values (const char *hivefile, const char *key)
{
  hive_h *h = open_hive (hivefile);
  hive_node_h node;
  char **r;

  if (h == NULL)
    return NULL;
  node = find_key (h, key);
  if (node == 0) {
    struct gd_strlist empty = { 0 };
    r = gd_strlist_end (&empty);
    if (r == NULL)
      reply_with_perror ("malloc");
  } else
    r = values_of (h, node);
  hivex_close (h);
  return r;
}

/* Add one subkey's row: name, then each wanted value ("" if none). */
static int
add_subkey_row (struct gd_strlist *l, hive_h *h, hive_node_h kid,
         char *const *names, size_t *bytes)
{
  char *name = hivex_node_name (h, kid);

  if (name == NULL || strlen (name) > VALUE_MAX)
    name = strdup ("");
  *bytes += strlen (name ? name : "") + 8;
  if (gd_strlist_take (l, name) == -1)
    return -1;
  for (size_t j = 0; names[j]; j++) {
    hive_value_h v = hivex_node_get_value (h, kid, names[j]);
    char *text = v ? value_text (h, v) : NULL;
    if (text == NULL)
      text = strdup ("");
    *bytes += strlen (text ? text : "") + 8;
    if (gd_strlist_take (l, text) == -1)
      return -1;
  }
  return 0;
}

char **
do_internal_hive_subkeys (const char *hivefile, const char *key,
                          char *const *names)
{
  struct gd_strlist l = { 0 };
  hive_node_h node, *kids = NULL;
  size_t bytes = 0;
  hive_h *h = open_hive (hivefile);

  if (h == NULL)
    return NULL;
  if ((node = find_key (h, key)) != 0 &&
      (kids = hivex_node_children (h, node)) == NULL) {
    reply_with_perror ("%s: subkeys of %s", hivefile, key);
    hivex_close (h);
    return NULL;
  }
  for (size_t i = 0; kids && kids[i]; i++) {
    if (add_subkey_row (&l, h, kids[i], names, &bytes) == -1 || bytes > REPLY_BUDGET) {
      if (bytes > REPLY_BUDGET)
        reply_with_error ("%s: %s has more subkeys than one reply can carry",
                          hivefile, key);
      else
        reply_with_perror ("malloc");
      gd_strlist_free (&l);
      free (kids);
      hivex_close (h);
      return NULL;
    }
  }
  free (kids);
  hivex_close (h);
  return gd_strlist_end (&l);
}
