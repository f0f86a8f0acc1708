/* Inner loops of the block fills of gamma**i (exp_range, exponential) and of cos 1cycle
   (cyclr/_blocks.pxi drives them; docs/block-fills.md gives the error bounds they rely
   on). In C so that GCC with glibc on x86-64 can build AVX-512 and AVX2 copies next to
   the baseline one and pick one at load time; all copies do the same operations, in the
   same order, on each element, so they give the same bits. */
#ifndef CYCLR_BLOCKS_H
#define CYCLR_BLOCKS_H
#include <math.h>
#include <stdint.h>
#include "formulas.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define CYCLR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CYCLR_CLONES
#endif

/* Steps with factors head * powers[a] and windows window[a]: the float of the value at
   the lower end of the enclosure goes to o[a]; returns whether any step's two ends
   round to different floats. */
CYCLR_CLONES static int cyclr_gamma_enclose(
        float *o, Py_ssize_t b, double head, const double *powers, const double *window,
        double span, double low, double high, int inverted, double slack) {
    int mixed = 0;
    for (Py_ssize_t a = 0; a < b; a++) {
        double f = head * powers[a];
        double height = span * window[a];
        float x = (float)cyclr_value(low, high, inverted, height, 0, f - f * slack);
        o[a] = x;
        mixed |= x != (float)cyclr_value(low, high, inverted, height, 0, f + f * slack);
    }
    return mixed;
}

/* Double-double numbers for gamma**i: hi + lo with |lo| <= ulp(hi) / 2, and err, a
   bound on the relative error. Products are exact by Dekker's splitting (no FMA
   needed; the module is built with -ffp-contract=off); one dd product adds at most
   8 * 2**-106 of relative error, counted as 2**-102. */
typedef struct { double hi, lo, err; } cyclr_dd;

static inline void cyclr_split(double a, double *hi, double *lo) {
    double t = 134217729.0 * a;                     /* 2**27 + 1 */
    *hi = t - (t - a);
    *lo = a - *hi;
}

static cyclr_dd cyclr_dd_mul(cyclr_dd a, cyclr_dd b) {
    double ah, al, bh, bl, p, e;
    cyclr_dd r;
    cyclr_split(a.hi, &ah, &al);
    cyclr_split(b.hi, &bh, &bl);
    p = a.hi * b.hi;
    e = (((ah * bh - p) + ah * bl + al * bh) + al * bl) + (a.hi * b.lo + a.lo * b.hi);
    r.hi = p + e;
    r.lo = e - (r.hi - p);
    r.err = a.err + b.err + 1.9721522630525295e-31;       /* 2**-102 */
    return r;
}

static cyclr_dd cyclr_dd_pow(double g, int64_t n) {          /* g**n, n >= 0 */
    cyclr_dd r = {1.0, 0.0, 0.0}, x = {g, 0.0, 0.0};
    while (n > 0) {
        if (n & 1) r = cyclr_dd_mul(r, x);
        n >>= 1;
        if (n > 0) x = cyclr_dd_mul(x, x);
    }
    return r;
}

/* Whether pow is known to be within 0.513 ulp for results above 2**-64 (glibc's
   generic pow, used on x86-64 and AArch64; docs/block-fills.md). Elsewhere float64
   fills call pow at every step. */
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define CYCLR_POW_IS_TIGHT 1
#else
#define CYCLR_POW_IS_TIGHT 0
#endif

/* float64 steps with factors (hh + hl) * (th[a] + tl[a]) (ths, thl: th split) and
   windows window[a]: the factor rounded to double, when the double-double value lies
   within 15/32 ulp of it (with the dd error, at most 2**-8 ulp, that leaves 0.027 ulp
   for pow's own 0.013: pow returns the same double), goes into the value written to
   o[a]. Nearer a boundary pow returns it or its neighbour on that side; when both give
   the same value, that is written; else o[a] is NaN (no value is). Returns whether any
   is. */
CYCLR_CLONES static int cyclr_gamma_exact(
        double *o, Py_ssize_t b, double hh, double hl,
        const double *th, const double *tl, const double *ths, const double *thl,
        const double *window, double span, double low, double high, int inverted) {
    double hs, hr;
    int any = 0;
    cyclr_split(hh, &hs, &hr);
    for (Py_ssize_t a = 0; a < b; a++) {
        double p = hh * th[a];
        double e = (((hs * ths[a] - p) + hs * thl[a] + hr * ths[a]) + hr * thl[a])
                   + (hh * tl[a] + hl * th[a]);
        double f = p + e;
        double d = e - (f - p);
        double height = span * window[a];
        union { double d; uint64_t u; } x, y;
        x.d = f;
        x.u = (x.u - 1) & 0x7ff0000000000000ULL;     /* the smaller ulp at 2**k */
        y.d = f;
        y.u += d > 0 ? 1 : -1;                        /* f's neighbour on d's side */
        double v = cyclr_value(low, high, inverted, height, 0, f);
        double w = cyclr_value(low, high, inverted, height, 0, y.d);
        /* pow returns f or, near the boundary, y: both may give the same value;
           15/32 ulp is 15/32 * 2**-52 * 2**e */
        int bad = fabs(d) > 1.0408340855860843e-16 * x.d && v != w;
        o[a] = bad ? NAN : v;
        any |= bad;
    }
    return any;
}

/* The indices a < b where o[a] is NaN, in order, into where; returns how many. A
   64-bit mask per 64 values (a loop the compiler vectorizes), then its set bits. */
#if defined(__GNUC__)
#define CYCLR_LOWEST_BIT(m) __builtin_ctzll(m)
#else
static int CYCLR_LOWEST_BIT(uint64_t m) {
    int k = 0;
    while (!(m & 1)) { m >>= 1; k++; }
    return k;
}
#endif
CYCLR_CLONES static Py_ssize_t cyclr_nan_positions(
        const double *o, Py_ssize_t b, Py_ssize_t *where) {
    Py_ssize_t n = 0;
    for (Py_ssize_t g = 0; g < b; g += 64) {
        Py_ssize_t e = b - g < 64 ? b - g : 64;
        uint64_t mask = 0;
        for (Py_ssize_t a = 0; a < e; a++)
            mask |= (uint64_t)(o[g + a] != o[g + a]) << a;
        while (mask) {
            where[n++] = g + CYCLR_LOWEST_BIT(mask);
            mask &= mask - 1;
        }
    }
    return n;
}

/* Steps at angles A + a * pi / span, from cos A = ca, sin A = sa and tables of cos and
   sin of a * pi / span; as cyclr_gamma_enclose for end + half * (cos + 1). */
CYCLR_CLONES static int cyclr_cos_enclose(
        float *o, Py_ssize_t b, double ca, double sa, const double *cosines,
        const double *sines, double end, double half, double slack) {
    int mixed = 0;
    for (Py_ssize_t a = 0; a < b; a++) {
        double c = ca * cosines[a] - sa * sines[a];
        float x = (float)cyclr_cos_anneal(end, half, c - slack);
        o[a] = x;
        mixed |= x != (float)cyclr_cos_anneal(end, half, c + slack);
    }
    return mixed;
}

#endif
