/* The point formulas of cyclr, each written once: the one-step kernels, the fills and
   the block fills of cyclr/_core.pyx all call these, so a value computed step by step
   and one computed in a fill are the same operations on the same operands.
   The arithmetic is specified in docs/arithmetic.md. */
#ifndef CYCLR_FORMULAS_H
#define CYCLR_FORMULAS_H
#include <math.h>

/* The value of a cyclic schedule from its window height ``height = (high - low) * w``
   and envelope factor ``f``: low + height * f (high - height * f for cycled momentum,
   ``inverted``). Rounding can carry low + (high - low) one ulp past high (or
   high - (high - low) below low), so a full-amplitude peak (``peak``: w == 1 and
   f == 1) is the bound itself, and no value leaves [low, high]. With low 0, height lr,
   no peak and high infinite it is the exponential decay lr * f. */
static inline double cyclr_value(double low, double high, int inverted, double height,
                                 int peak, double f) {
    double v = inverted ? high - height * f : low + height * f;
    if (peak)
        return inverted ? low : high;
    v = v < low ? low : v;
    return v > high ? high : v;
}

/* torch's cos anneal from c = cos(pi * pct): end + half * (c + 1), half = (start - end) / 2,
   in OneCycleLR's order of operations (bit parity with it). */
static inline double cyclr_cos_anneal(double end, double half, double c) {
    return end + half * (c + 1.0);
}

/* The height of a half-cosine anneal at offset t of length steps: from span at t = 0
   to 0 at t = length, in torch's CosineAnnealingWarmRestarts order of operations
   (span * (1 + cos(pi * t / length))) / 2. */
static inline double cyclr_cosine_height(double span, double t, double length) {
    return span * (1.0 + cos(3.141592653589793 * t / length)) / 2.0;
}

#endif
