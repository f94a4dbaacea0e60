/* guestd LVM reports as structs: pvs_full, vgs_full, lvs_full.
 *
 * The columns asked of lvm(8) are the field names of the struct table
 * (schemas/structs.tsv: lvm_pv, lvm_vg, lvm_lv), which are lvm's own
 * report field names, so one parser fills any of the three structs from
 * the generated descriptors (gk_structs): sizes in bytes (--units b
 * --nosuffix), UUIDs with their dashes taken out, an empty percentage
 * as -1.  Fields are separated by a tab, which no LVM name or tag can
 * hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

#define SEP "\t"

static const struct gk_struct *
struct_by_name (const char *name)
{
  for (size_t i = 0; i < gk_nstructs; i++)
    if (strcmp (gk_structs[i].name, name) == 0)
      return &gk_structs[i];
  return NULL;
}

/* "pv_name,pv_uuid,..." for the -o option; caller frees. */
static char *
columns (const struct gk_struct *s)
{
  size_t len = 1;
  char *r, *p;

  for (size_t i = 0; i < s->nfields; i++)
    len += strlen (s->fields[i].name) + 1;
  if ((r = p = malloc (len)) == NULL)
    return NULL;
  for (size_t i = 0; i < s->nfields; i++)
    p += sprintf (p, "%s%s", i ? "," : "", s->fields[i].name);
  return r;
}

static int
parse_int (const char *v, int is_unsigned, void *dst)
{
  char *end;

  errno = 0;
  if (*v == '\0') {                     /* not applicable: 0 */
    memset (dst, 0, 8);
    return 0;
  }
  if (is_unsigned) {
    uint64_t u = strtoull (v, &end, 10);
    memcpy (dst, &u, sizeof u);
  } else {
    int64_t i = strtoll (v, &end, 10);
    memcpy (dst, &i, sizeof i);
  }
  return errno || *end ? -1 : 0;
}

/* Store the text v as field f of the struct at base. */
static int
set_field (const struct gk_field *f, char *base, const char *v)
{
  char *dst = base + f->offset;

  switch (f->type) {
  case GK_F_STRING:
    return (*(char **) dst = strdup (v)) ? 0 : -1;
  case GK_F_UUID: {
    size_t n = 0;
    memset (dst, ' ', 32);
    for (; *v && n < 32; v++)
      if (*v != '-')
        dst[n++] = *v;
    return 0;
  }
  case GK_F_BYTES:
    return parse_int (v, 1, dst);
  case GK_F_INT64:
    return parse_int (v, 0, dst);
  case GK_F_OPTPERCENT: {
    char *end;
    float pc = *v ? strtof (v, &end) : -1;
    if (*v && *end)
      return -1;
    memcpy (dst, &pc, sizeof pc);
    return 0;
  }
  default:
    return -1;
  }
}

/* One report line into the struct at base.  Replies on failure. */
static int
parse_line (const struct gk_struct *s, char *line, char *base)
{
  char *p = line + strspn (line, " ");

  for (size_t i = 0; i < s->nfields; i++) {
    char *v = p, *tab = strchr (p, '\t');
    if (tab == NULL && i + 1 < s->nfields) {
      reply_with_error ("lvm report line has %zu fields, expected %zu: %s",
                        i + 1, s->nfields, line);
      return -1;
    }
    if (tab)
      *tab = '\0';
    p = tab ? tab + 1 : p + strlen (p);
    if (set_field (&s->fields[i], base, gd_trim (v)) == -1) {
      reply_with_error ("lvm report: %s: cannot parse '%s'",
                        s->fields[i].name, v);
      return -1;
    }
  }
  return 0;
}

static struct gk_list *
lvm_full (const char *cmd, const char *sname)
{
  const struct gk_struct *s = struct_by_name (sname);
  char *cols = s ? columns (s) : NULL, *out = NULL, *save = NULL;
  const char *args[] = { cmd, "--noheadings", "--units", "b", "--nosuffix",
                         "--separator", SEP, "-o", cols, NULL };
  struct gk_list *r = NULL;
  size_t lines = 0;

  if (cols == NULL) {
    reply_with_perror ("%s", sname);
    return NULL;
  }
  if (gd_lvm (&out, args) == -1)
    goto out;
  for (char *p = out; *p; p++)
    lines += *p == '\n';
  if ((r = calloc (1, sizeof *r)) == NULL ||
      (r->val = calloc (lines + 1, s->size)) == NULL) {
    reply_with_perror ("%s", cmd);
    free (r);
    r = NULL;
    goto out;
  }
  for (char *l = strtok_r (out, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
    char *base = (char *) r->val + r->len * s->size;
    if (l[strspn (l, " ")] == '\0' || r->len > lines)
      continue;
    if (parse_line (s, l, base) == -1) {
      gk_free_struct_fields (s, base);
      for (uint32_t i = 0; i < r->len; i++)
        gk_free_struct_fields (s, (char *) r->val + i * s->size);
      free (r->val);
      free (r);
      r = NULL;
      goto out;
    }
    r->len++;
  }
 out:
  free (cols);
  free (out);
  return r;
}

struct guestfs_lvm_pv_list *
do_pvs_full (void)
{
  if (gd_check_group () == -1)
    return NULL;
  return (struct guestfs_lvm_pv_list *) lvm_full ("pvs", "lvm_pv");
}

struct guestfs_lvm_vg_list *
do_vgs_full (void)
{
  if (gd_check_group () == -1)
    return NULL;
  return (struct guestfs_lvm_vg_list *) lvm_full ("vgs", "lvm_vg");
}

struct guestfs_lvm_lv_list *
do_lvs_full (void)
{
  if (gd_check_group () == -1)
    return NULL;
  return (struct guestfs_lvm_lv_list *) lvm_full ("lvs", "lvm_lv");
}
