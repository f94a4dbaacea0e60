/* core/qcow2.c: empty qcow2 images written here, and qcow2 headers read
 * here, without running qemu-img.
 *
 * Writing: the image that `qemu-img create -f qcow2 [-F FMT -b BACKING]
 * FILE SIZE' (qemu 7.2) makes, byte for byte (tests/quick-qcow2.c
 * compares them): version 3, 64 KiB clusters, 16-bit refcounts, no
 * preallocation.  Such an image is
 *
 *   cluster 0   the header (112 bytes), its extensions and the backing
 *               file name; the rest of the cluster zero
 *   cluster 1   the refcount table: one entry, the block at cluster 2
 *   cluster 2   the refcount block: 1 for clusters 0, 1, 2 and the L1's
 *   cluster 3-  the L1 table, all zero, one entry per 512 MiB of virtual
 *               size (none for size 0); the file ends where it ends
 *
 * The extensions, in qemu's order: the backing format (when there is a
 * backing file), the feature name table, the end mark.  The size is
 * rounded up to 512 bytes as qemu-img does.  An L1 table of at most 32 MiB
 * (qemu's limit) covers at most 2 PiB, and the 515 clusters of the
 * largest empty image need one refcount block (it counts 32768).
 *
 * Reading: gk_qcow2_read parses what a header says about the files it
 * names (backing file and format, data file, feature bits), from at most
 * the first cluster, checking every offset and length against what was
 * read.  It never opens the files named.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk.h"

#define CLUSTER_BITS 16
#define CLUSTER ((uint64_t) 1 << CLUSTER_BITS)
#define L2_COVERS (CLUSTER / 8 * CLUSTER)      /* bytes one L1 entry maps */
#define L1_MAX_ENTRIES ((uint64_t) 32 * 1024 * 1024 / 8)   /* qemu's cap */
#define HEADER_LEN 112
#define BACKING_NAME_MAX 1023                  /* qemu's limit */

#define EXT_END 0x00000000u
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_FEATURE_TABLE 0x6803f857u
#define EXT_BITMAPS 0x23852875u
#define EXT_DATA_FILE 0x44415441u

/* The feature name table qemu 7.2 writes: (type, bit, name). */
static const struct { unsigned char type, bit; const char *name; } features[] = {
  { 0, 0, "dirty bit" }, { 0, 1, "corrupt bit" },
  { 0, 2, "external data file" }, { 0, 3, "compression type" },
  { 0, 4, "extended L2 entries" }, { 1, 0, "lazy refcounts" },
  { 2, 0, "bitmaps" }, { 2, 1, "raw external data" },
};
#define FEATURE_ENTRY 48

static void
put16 (unsigned char *p, uint16_t v)
{
  p[0] = (unsigned char) (v >> 8);
  p[1] = (unsigned char) v;
}

static void
put32 (unsigned char *p, uint32_t v)
{
  put16 (p, (uint16_t) (v >> 16));
  put16 (p + 2, (uint16_t) v);
}

static void
put64 (unsigned char *p, uint64_t v)
{
  put32 (p, (uint32_t) (v >> 32));
  put32 (p + 4, (uint32_t) v);
}

static uint32_t
get32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
get64 (const unsigned char *p)
{
  return (uint64_t) get32 (p) << 32 | get32 (p + 4);
}

static size_t
pad8 (size_t n)
{
  return (n + 7) & ~(size_t) 7;
}

int
gk_qcow2_check (uint64_t size, const char *backing, const char *backing_format,
                const char **why)
{
  uint64_t vsize = (size + 511) & ~(uint64_t) 511;

  if (size > INT64_MAX) {
    *why = "the size is negative or beyond 2^63 - 1 bytes";
    return -1;
  }
  if ((vsize + L2_COVERS - 1) / L2_COVERS > L1_MAX_ENTRIES) {
    *why = "the size is too large for a qcow2 image with 64 KiB clusters "
           "(at most 2 PiB)";
    return -1;
  }
  if (backing && (backing[0] == '\0' || strlen (backing) > BACKING_NAME_MAX)) {
    *why = "the backing file name is empty or longer than 1023 bytes";
    return -1;
  }
  if (backing && (backing_format == NULL || backing_format[0] == '\0' ||
                  strlen (backing_format) > 15)) {
    *why = "a backing file needs its format (1 to 15 characters)";
    return -1;
  }
  return 0;
}

/* The header cluster's used part: header, extensions, backing name.
 * Returns its length (at most HEADER_LEN + 24 + 392 + 8 + 1023 bytes). */
static size_t
header_bytes (unsigned char *h, uint64_t vsize, uint64_t l1_entries,
              const char *backing, const char *backing_format)
{
  size_t off = HEADER_LEN, n;

  put32 (h, 0x514649fbu);                   /* QFI\xfb */
  put32 (h + 4, 3);                         /* version */
  put32 (h + 20, CLUSTER_BITS);
  put64 (h + 24, vsize);
  put32 (h + 36, (uint32_t) l1_entries);
  put64 (h + 40, l1_entries ? 3 * CLUSTER : 0);
  put64 (h + 48, CLUSTER);                  /* refcount table */
  put32 (h + 56, 1);                        /* ... of one cluster */
  put32 (h + 96, 4);                        /* refcount_order: 16 bits */
  put32 (h + 100, HEADER_LEN);
  if (backing) {
    n = strlen (backing_format);
    put32 (h + off, EXT_BACKING_FORMAT);
    put32 (h + off + 4, (uint32_t) n);
    memcpy (h + off + 8, backing_format, n);
    off += 8 + pad8 (n);
  }
  put32 (h + off, EXT_FEATURE_TABLE);
  put32 (h + off + 4, sizeof features / sizeof features[0] * FEATURE_ENTRY);
  off += 8;
  for (size_t i = 0; i < sizeof features / sizeof features[0]; i++, off += FEATURE_ENTRY) {
    h[off] = features[i].type;
    h[off + 1] = features[i].bit;
    memcpy (h + off + 2, features[i].name, strlen (features[i].name));
  }
  off += 8;                                 /* the end mark: zeros */
  if (backing) {
    n = strlen (backing);
    put64 (h + 8, off);
    put32 (h + 16, (uint32_t) n);
    memcpy (h + off, backing, n);
    off += n;
  }
  return off;
}

static int
pwrite_all (int fd, const void *buf, size_t n, off_t off)
{
  const char *p = buf;

  while (n > 0) {
    ssize_t r = pwrite (fd, p, n, off);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      return -1;
    }
    p += r;
    n -= (size_t) r;
    off += r;
  }
  return 0;
}

int
gk_qcow2_write (int fd, uint64_t size, const char *backing,
                const char *backing_format, const char **why)
{
  uint64_t vsize = (size + 511) & ~(uint64_t) 511;
  uint64_t l1 = (vsize + L2_COVERS - 1) / L2_COVERS;
  uint64_t l1_clusters = (l1 * 8 + CLUSTER - 1) / CLUSTER;
  uint64_t end = l1 ? 3 * CLUSTER + l1 * 8 : 3 * CLUSTER;
  unsigned char h[2048] = { 0 }, rt[8], rb[2 * (3 + 512)] = { 0 };
  size_t hlen;

  if (gk_qcow2_check (size, backing, backing_format, why) == -1) {
    errno = EINVAL;
    return -1;
  }
  hlen = header_bytes (h, vsize, l1, backing, backing_format);
  put64 (rt, 2 * CLUSTER);
  for (uint64_t c = 0; c < 3 + l1_clusters; c++)
    put16 (rb + 2 * c, 1);
  *why = "write";
  /* The zeros (the rest of each cluster, the L1 table) are a hole. */
  if (ftruncate (fd, (off_t) end) == -1 ||
      pwrite_all (fd, h, hlen, 0) == -1 ||
      pwrite_all (fd, rt, sizeof rt, (off_t) CLUSTER) == -1 ||
      pwrite_all (fd, rb, 2 * (3 + l1_clusters), (off_t) (2 * CLUSTER)) == -1)
    return -1;
  return 0;
}

void
gk_qcow2_free (struct gk_qcow2 *q)
{
  free (q->backing);
  free (q->backing_format);
  memset (q, 0, sizeof *q);
}

/* The extensions from off to end (both within h): what they name. */
static const char *
read_extensions (guestfs_h *g, const unsigned char *h, size_t off, size_t end,
                 struct gk_qcow2 *q)
{
  while (off + 8 <= end) {
    uint32_t type = get32 (h + off), len = get32 (h + off + 4);

    if (type == EXT_END)
      return NULL;
    if (len > end - off - 8)
      return "a header extension runs past the header";
    if (type == EXT_BACKING_FORMAT) {
      if (len == 0 || len > 15 || memchr (h + off + 8, '\0', len))
        return "the backing format extension is malformed";
      free (q->backing_format);
      q->backing_format = gk_calloc (g, len + 1, 1);
      memcpy (q->backing_format, h + off + 8, len);
    } else if (type == EXT_DATA_FILE)
      q->data_file = 1;
    else if (type != EXT_FEATURE_TABLE)
      q->other_ext = 1;
    off += 8 + pad8 (len);
  }
  return NULL;
}

/* Parse the header of the image open at fd (at most its first cluster,
 * and at most 64 KiB of it).  0 and *q filled (gk_qcow2_free frees it),
 * or -1 and *why (a constant) when it is not a qcow2 header we can read;
 * errno is set on a read error. */
int
gk_qcow2_read (guestfs_h *g, int fd, struct gk_qcow2 *q, const char **why)
{
  unsigned char *h = gk_malloc (g, CLUSTER);
  ssize_t n;
  size_t limit, hlen, ext_end;
  uint64_t boff;

  memset (q, 0, sizeof *q);
  *why = NULL;
  do
    n = pread (fd, h, CLUSTER, 0);
  while (n == -1 && errno == EINTR);
  if (n == -1)
    *why = "cannot read its header";
  else if (n < 72 || get32 (h) != 0x514649fbu)
    *why = "not a qcow2 image (no qcow2 header)";
  else if ((q->version = get32 (h + 4)) != 2 && q->version != 3)
    *why = "a qcow2 version other than 2 or 3";
  else if ((q->cluster_bits = get32 (h + 20)) < 9 || q->cluster_bits > 21)
    *why = "a qcow2 header with a bad cluster size";
  if (*why)
    goto out;
  limit = (size_t) n < ((size_t) 1 << q->cluster_bits) ? (size_t) n
        : (size_t) 1 << q->cluster_bits;
  q->size = get64 (h + 24);
  q->crypt = get32 (h + 32);
  hlen = 72;
  if (q->version == 3) {
    hlen = limit >= 104 ? get32 (h + 100) : 0;
    if (hlen < 104 || hlen > limit) {
      *why = "a qcow2 header whose length is out of range";
      goto out;
    }
    q->incompat = get64 (h + 72);
  }
  boff = get64 (h + 8);
  q->backing_len = get32 (h + 16);
  if (boff && (boff < hlen || boff > limit || q->backing_len == 0 ||
               q->backing_len > BACKING_NAME_MAX ||
               q->backing_len > limit - boff)) {
    *why = "a backing file name out of range";
    goto out;
  }
  ext_end = boff ? (size_t) boff : limit;
  if ((*why = read_extensions (g, h, hlen, ext_end, q)) != NULL)
    goto out;
  if (boff) {
    q->backing = gk_calloc (g, q->backing_len + 1, 1);
    memcpy (q->backing, h + boff, q->backing_len);
  }
 out:
  free (h);
  if (*why) {
    gk_qcow2_free (q);
    return -1;
  }
  return 0;
}
