/* guestd sha256: the one SHA-256 of guestd (FIPS 180-4), for the file
 * states of lstat_sha256_list (files.c) and checksum "sha256"
 * (content.c): a file is hashed here, in the appliance, with no
 * sha256sum to start for it.  The caller opens the file (safely, inside
 * the sysroot); this file only reads the fd it is given.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

struct sha256 {
  uint32_t h[8];
  uint64_t bytes;               /* message length so far */
  unsigned char block[64];      /* the partial block */
  size_t used;                  /* bytes in block */
};

static const uint32_t sha256_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block (struct sha256 *s, const unsigned char *p)
{
  uint32_t w[64], v[8], t1, t2;

  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t) p[4*i] << 24 | (uint32_t) p[4*i+1] << 16 |
           (uint32_t) p[4*i+2] << 8 | p[4*i+3];
  for (int i = 16; i < 64; i++)
    w[i] = w[i-16] + (ROR (w[i-15], 7) ^ ROR (w[i-15], 18) ^ (w[i-15] >> 3)) +
           w[i-7] + (ROR (w[i-2], 17) ^ ROR (w[i-2], 19) ^ (w[i-2] >> 10));
  memcpy (v, s->h, sizeof v);
  for (int i = 0; i < 64; i++) {
    t1 = v[7] + (ROR (v[4], 6) ^ ROR (v[4], 11) ^ ROR (v[4], 25)) +
         ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
    t2 = (ROR (v[0], 2) ^ ROR (v[0], 13) ^ ROR (v[0], 22)) +
         ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
    memmove (v + 1, v, 7 * sizeof v[0]);
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++)
    s->h[i] += v[i];
}

static void
sha256_init (struct sha256 *s)
{
  static const uint32_t h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  };
  memcpy (s->h, h0, sizeof h0);
  s->bytes = 0;
  s->used = 0;
}

static void
sha256_add (struct sha256 *s, const unsigned char *p, size_t n)
{
  s->bytes += n;
  while (n > 0) {
    size_t k = 64 - s->used < n ? 64 - s->used : n;
    memcpy (s->block + s->used, p, k);
    s->used += k, p += k, n -= k;
    if (s->used == 64) {
      sha256_block (s, s->block);
      s->used = 0;
    }
  }
}

/* The digest as 64 hex digits and a NUL in hex[65]. */
static void
sha256_end (struct sha256 *s, char *hex)
{
  uint64_t bits = s->bytes * 8;
  unsigned char pad[72] = { 0x80 };
  size_t n = (s->used < 56 ? 56 : 120) - s->used;

  for (int i = 0; i < 8; i++)
    pad[n + i] = (unsigned char) (bits >> (56 - 8 * i));
  sha256_add (s, pad, n + 8);
  for (int i = 0; i < 32; i++)
    snprintf (hex + 2 * i, 3, "%02x", (unsigned) (s->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff);
}

int
gd_sha256_fd (int fd, char *hex)
{
  static unsigned char buf[65536];
  struct sha256 s;
  ssize_t r;

  sha256_init (&s);
  while ((r = read (fd, buf, sizeof buf)) != 0) {
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    sha256_add (&s, buf, (size_t) r);
  }
  sha256_end (&s, hex);
  return 0;
}
