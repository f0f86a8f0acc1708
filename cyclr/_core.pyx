# Kernels of cyclr.
#
# Layers, bottom up (the same as scikit-learn's ``_loss.pyx``):
#   1. one-step kernels: ``cdef inline double ..._at(const Params*, int64_t)``, pure C on a
#      parameter struct, ``noexcept nogil``; the policy is chosen by ``cdef enum``s;
#   2. fill loops: write steps ``start .. start+n-1`` into a caller's buffer under
#      ``nogil``; they apply the one-step kernels' own functions to the same operands,
#      only hoisting what a cycle or phase shares (position, envelope factor, a table of
#      one cycle's window, whole repeated cycles), so ``s(i)`` and ``s.array(...)[i]``
#      are bit-identical by construction;
#   3. ``Kernel``: the extension type that owns the parameters, checks every buffer it
#      is handed (type, dtype, ndim, contiguity, writeability) before any ``nogil`` loop,
#      calls a user ``scale_fn`` (with the GIL) when there is one, and walks chains;
#   4. ``cyclr/schedules.py`` (plain Python): validation, constructors, repr, equality,
#      pickling and serialization on top of ``Kernel``.
#
# All arithmetic is double; float32 output is the double result rounded once.
# Steps are int64 everywhere; cycle positions use integer arithmetic when the step
# sizes are whole numbers, so they stay exact for every int64 step.

cimport cython
cimport numpy as cnp
from cpython.object cimport PyObject, PyTypeObject
from cpython.tuple cimport PyTuple_GET_SIZE
from cython cimport floating
from libc.math cimport INFINITY, M_PI, cos, floor, fmod, isfinite, pow, sin
from libc.stdint cimport INT64_MAX, int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

cnp.import_array()


# Vectorcall (PEP 590) for ``Kernel.__call__``: ``s(i)`` then skips the argument tuple
# that ``tp_call`` builds, which is most of a scalar call's cost. Each instance holds the
# function pointer, as the protocol asks; types without the flag fall back to tp_call.
cdef extern from *:
    """
    static int cyclr_set_vectorcall(PyTypeObject *type, Py_ssize_t offset) {
    #if defined(Py_TPFLAGS_HAVE_VECTORCALL) && !defined(PYPY_VERSION) && !defined(Py_LIMITED_API)
        type->tp_vectorcall_offset = offset;
        type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
        return 1;
    #else
        return 0;
    #endif
    }
    """
    ctypedef PyObject* (*vectorcallfunc)(PyObject*, PyObject* const*, size_t, PyObject*)
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)
    int cyclr_set_vectorcall(PyTypeObject* type, Py_ssize_t offset)
    PyTypeObject* Py_TYPE(object)
    unsigned long HAVE_VECTORCALL "Py_TPFLAGS_HAVE_VECTORCALL"
    # Borrowed-pointer forms, so the scalar fast path touches no reference counts.
    bint exact_int "PyLong_CheckExact"(PyObject* o)
    long long int_value "PyLong_AsLongLongAndOverflow"(PyObject* o, int* overflow)


# The inner loops of the block fills of gamma**i and cos 1cycle (section 2, "Fills of
# gamma**i ... and of cos 1cycle"), in C so that GCC with glibc on x86-64 can
# build AVX-512 and AVX2 copies next to the baseline one and pick one at load time; all
# do the same operations, in the same order, on each element, so they give the same bits.
cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define CYCLR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define CYCLR_CLONES
    #endif

    /* The two formulas the block fills share with the one-step path (gamma_segment's
       docstring says why the first is the kernels' own arithmetic), written once so
       that the loops below and the Cython code compute them alike. base + (span * w) * f clamped to
       [lo, hi]: a cyclic gamma**i value, or with base 0, span lr, w 1 and no bounds,
       the exponential decay lr * f. */
    static inline double cyclr_gamma_value(double base, double span, double lo,
                                           double hi, double w, double f) {
        double v = base + (span * w) * f;
        v = v < lo ? lo : v;
        return v > hi ? hi : v;
    }

    /* torch's cos anneal from cos c: end + half * (c + 1), half = (start - end) / 2. */
    static inline double cyclr_cos_anneal(double end, double half, double c) {
        return end + half * (c + 1.0);
    }

    /* Steps with factors head * powers[a] and windows window[a]: the float of the value
       at the lower end of the enclosure goes to o[a]; returns whether any step's two
       ends round to different floats. */
    CYCLR_CLONES static int cyclr_gamma_enclose(
            float *o, Py_ssize_t b, double head, const double *powers,
            const double *window, double base, double span, double lo, double hi,
            double slack) {
        int mixed = 0;
        for (Py_ssize_t a = 0; a < b; a++) {
            double f = head * powers[a];
            float x = (float)cyclr_gamma_value(base, span, lo, hi, window[a], f - f * slack);
            o[a] = x;
            mixed |= x != (float)cyclr_gamma_value(base, span, lo, hi, window[a],
                                                   f + f * slack);
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

    /* glibc's pow is documented within 0.54 ulp: 0.509 from its exp, plus its log's
       relative error (at most 1.5 * 2**-68) times |y log x|, which for results above
       2**-64 is at most 44.4, so 0.513 ulp there: it returns the double nearest the
       true power whenever that lies more than 0.013 ulp from a rounding boundary (older
       glibc's pow is correctly rounded). That is the generic pow, which x86-64 and
       AArch64 use; elsewhere no such bound is known here, so float64 fills call pow at
       every step. */
    #if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
    #define CYCLR_POW_IS_TIGHT 1
    #else
    #define CYCLR_POW_IS_TIGHT 0
    #endif

    /* float64 steps with factors (hh + hl) * (th[a] + tl[a]) (ths, thl: th split) and
       windows window[a]: the factor rounded to double, when the double-double value
       lies within 15/32 ulp of it (with the dd error, at most 2**-8 ulp, that leaves
       0.027 ulp for pow's own 0.013: pow returns the same double), goes into the value
       written to o[a]. Nearer a boundary pow returns it or its neighbour on that side;
       when both give the same value, that is written; else o[a] is NaN (no value is).
       Returns whether any is. */
    CYCLR_CLONES static int cyclr_gamma_exact(
            double *o, Py_ssize_t b, double hh, double hl,
            const double *th, const double *tl, const double *ths, const double *thl,
            const double *window, double base, double span, double lo, double hi) {
        double hs, hr;
        int any = 0;
        cyclr_split(hh, &hs, &hr);
        for (Py_ssize_t a = 0; a < b; a++) {
            double p = hh * th[a];
            double e = (((hs * ths[a] - p) + hs * thl[a] + hr * ths[a]) + hr * thl[a])
                       + (hh * tl[a] + hl * th[a]);
            double f = p + e;
            double d = e - (f - p);
            union { double d; uint64_t u; } x, y;
            x.d = f;
            x.u = (x.u - 1) & 0x7ff0000000000000ULL;     /* the smaller ulp at 2**k */
            y.d = f;
            y.u += d > 0 ? 1 : -1;                        /* f's neighbour on d's side */
            double v = cyclr_gamma_value(base, span, lo, hi, window[a], f);
            double w = cyclr_gamma_value(base, span, lo, hi, window[a], y.d);
            /* pow returns f or, near the boundary, y: both may give the same value */
            /* 15/32 ulp is 15/32 * 2**-52 * 2**e */
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

    /* Steps at angles A + a * pi / span, from cos A = ca, sin A = sa and tables of cos
       and sin of a * pi / span; as above for end + half * (cos + 1). */
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
    """
    bint gamma_enclose "cyclr_gamma_enclose"(
        float* o, Py_ssize_t b, double head, const double* powers, const double* window,
        double base, double span, double lo, double hi, double slack) noexcept nogil
    double gamma_value "cyclr_gamma_value"(double base, double span, double lo, double hi,
                                           double w, double f) noexcept nogil
    double cos_anneal "cyclr_cos_anneal"(double end, double half, double c) noexcept nogil
    ctypedef struct dd "cyclr_dd":
        double hi
        double lo
        double err
    dd dd_mul "cyclr_dd_mul"(dd a, dd b) noexcept nogil
    dd dd_pow "cyclr_dd_pow"(double g, int64_t n) noexcept nogil
    void dd_split "cyclr_split"(double a, double* hi, double* lo) noexcept nogil
    bint POW_IS_TIGHT "CYCLR_POW_IS_TIGHT"
    bint gamma_exact "cyclr_gamma_exact"(
        double* o, Py_ssize_t b, double hh, double hl,
        const double* th, const double* tl, const double* ths, const double* thl,
        const double* window, double base, double span, double lo, double hi) noexcept nogil
    Py_ssize_t nan_positions "cyclr_nan_positions"(
        const double* o, Py_ssize_t b, Py_ssize_t* where) noexcept nogil
    bint cos_enclose "cyclr_cos_enclose"(
        float* o, Py_ssize_t b, double ca, double sa, const double* cosines,
        const double* sines, double end, double half, double slack) noexcept nogil


cdef enum Kind:
    CONSTANT
    DECAY
    EXPONENTIAL
    STEP_DECAY
    CYCLIC
    ONE_CYCLE
    CHAIN

cdef enum Window:
    LINEAR
    WELCH
    HANN

cdef enum Envelope:
    FLAT             # triangular
    HALVING          # triangular2: 2**-c
    GAMMA_STEPS      # exp_range: gamma**i
    GAMMA_CYCLES     # exp_range per cycle: gamma**c
    USER_CYCLES      # scale_fn(c + 1)
    USER_STEPS       # scale_fn(i)

cdef enum Anneal:
    ANNEAL_COS
    ANNEAL_LINEAR

_KINDS = {"constant": CONSTANT, "decay": DECAY, "exponential": EXPONENTIAL,
          "step_decay": STEP_DECAY, "cyclic": CYCLIC, "one_cycle": ONE_CYCLE}
_WINDOWS = {"linear": LINEAR, "welch": WELCH, "hann": HANN}
_ENVELOPES = {"flat": FLAT, "halving": HALVING, "gamma_steps": GAMMA_STEPS,
              "gamma_cycles": GAMMA_CYCLES, "user_cycles": USER_CYCLES,
              "user_steps": USER_STEPS}
_ANNEALS = {"cos": ANNEAL_COS, "linear": ANNEAL_LINEAR}


cdef struct Params:
    Kind kind
    # constant: lo; decay: lo=max_lr, hi=base_lr, span=steps; exponential: lo, gamma;
    # step_decay: lo, gamma, span=step size; cyclic: lo=base, hi=max (swapped roles
    # when inverted, for momentum)
    double lo
    double hi
    double gamma
    double span
    # cyclic
    bint inverted
    Window window
    Envelope envelope
    double up
    double down
    double period
    # Whole-number step sizes: cycle position by int64 division (exact for any step).
    bint integral
    int64_t iperiod
    # one cycle (PyTorch OneCycleLR phases)
    int nphases
    Anneal anneal
    int64_t last_step
    double phase_end[3]
    double phase_from[3]
    double phase_to[3]


# ---------------------------------------------------------------------------
# 1. One-step kernels
# ---------------------------------------------------------------------------

cdef inline double position(const Params* p, int64_t i, double* t) noexcept nogil:
    """Split step ``i`` (or a step count, for step decay) into the 0-based period
    index, returned, and the offset ``t`` within it (``0 <= t < period``)."""
    cdef int64_t ic
    cdef double c, x
    if p.integral:
        ic = i // p.iperiod
        t[0] = <double>(i - ic * p.iperiod)
        return <double>ic
    # Fractional sizes: fmod is exact, so 0 <= t < period at every step, however large;
    # x - t is then (close to) a whole number of periods.
    x = <double>i
    t[0] = fmod(x, p.period)
    return floor((x - t[0]) / p.period + 0.5)


cdef inline double window_at(const Params* p, double t) noexcept nogil:
    """The window ``w`` at offset ``t`` in the cycle: 0 at the start, 1 at the peak."""
    cdef double u
    if t <= p.up:
        u = t / p.up
    else:
        u = (p.period - t) / p.down
    if p.window == LINEAR:
        return u
    if p.window == WELCH:
        return 1.0 - (1.0 - u) * (1.0 - u)
    return (1.0 - cos(M_PI * u)) / 2.0


cdef inline double envelope_at(const Params* p, double c, int64_t i) noexcept nogil:
    """The built-in amplitude factor ``f`` for cycle ``c`` (0-based) at step ``i``."""
    if p.envelope == HALVING:
        return pow(2.0, -c)
    if p.envelope == GAMMA_STEPS:
        return pow(p.gamma, <double>i)
    if p.envelope == GAMMA_CYCLES:
        return pow(p.gamma, c)
    return 1.0


cdef inline double cyclic_value(const Params* p, double w, double f) noexcept nogil:
    # DESIGN.md's formula, in two steps so that fills can tabulate the first.
    # ``&``, not ``and``: no short-circuit jumps, so fill loops vectorize.
    return scaled_height(p, height_of(p, w), (w == 1.0) & (f == 1.0), f)


cdef inline double height_of(const Params* p, double w) noexcept nogil:
    return (p.hi - p.lo) * w


cdef inline double scaled_height(const Params* p, double height, bint peak,
                                 double f) noexcept nogil:
    # Rounding can carry ``lo + (hi - lo)`` one ulp past ``hi`` (or ``hi - (hi - lo)``
    # below ``lo``); the peak (w == 1 at full amplitude) is the bound itself, and no
    # value leaves [lo, hi].
    cdef double v
    if p.inverted:
        v = p.hi - height * f
        return p.lo if (peak | (v < p.lo)) else v
    v = p.lo + height * f
    return p.hi if (peak | (v > p.hi)) else v


cdef inline double cyclic_at(const Params* p, int64_t i) noexcept nogil:
    cdef double t
    cdef double c = position(p, i, &t)
    return cyclic_value(p, window_at(p, t), envelope_at(p, c, i))


cdef inline double anneal(Anneal how, double start, double end, double pct) noexcept nogil:
    # The operation order of torch.optim.lr_scheduler.OneCycleLR, for bit parity.
    if how == ANNEAL_COS:
        return cos_anneal(end, (start - end) / 2.0, cos(M_PI * pct))
    return (end - start) * pct + start


cdef inline double one_cycle_at(const Params* p, int64_t i) noexcept nogil:
    cdef int k
    cdef int last = p.nphases - 1
    cdef double start = 0.0
    cdef double x
    if i > p.last_step:
        i = p.last_step          # hold the final value after the end
    x = <double>i
    for k in range(p.nphases):
        if x <= p.phase_end[k] or k == last:
            return anneal(p.anneal, p.phase_from[k], p.phase_to[k],
                          (x - start) / (p.phase_end[k] - start))
        start = p.phase_end[k]
    return p.phase_to[last]


cdef inline double value_at(const Params* p, int64_t i) noexcept nogil:
    """The value of any non-chain, non-user kernel at step ``i``."""
    cdef double t, c, x
    if p.kind == CYCLIC:
        return cyclic_at(p, i)
    if p.kind == ONE_CYCLE:
        return one_cycle_at(p, i)
    if p.kind == CONSTANT:
        return p.lo
    if p.kind == DECAY:
        if <double>i >= p.span:
            return p.hi                  # reached base_lr: hold it exactly
        return p.lo + (p.hi - p.lo) * <double>i / p.span
    if p.kind == EXPONENTIAL:
        return p.lo * pow(p.gamma, <double>i)
    # STEP_DECAY: the period is the decay step size
    c = position(p, i, &t)
    return p.lo * pow(p.gamma, c)


# ---------------------------------------------------------------------------
# 2. Fill loops
# ---------------------------------------------------------------------------

cdef void fill_values(const Params* p, int64_t start, floating* out,
                      Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        out[j] = <floating>value_at(p, start + j)


cdef void fill_user(const Params* p, int64_t start, floating* out, Py_ssize_t n,
                    const double* factor) noexcept nogil:
    """Cyclic values with the factors a user ``scale_fn`` gave, one per step."""
    cdef Py_ssize_t j
    cdef double t
    for j in range(n):
        position(p, start + j, &t)
        out[j] = <floating>cyclic_value(p, window_at(p, t), factor[j])


cdef void fill_constant(floating* out, Py_ssize_t n, double value) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating v = <floating>value
    for j in range(n):
        out[j] = v


# The fast fills below hoist work out of the per-step loop (the cycle position, the
# per-cycle envelope factor, the window of a cycle, the 1cycle phase) but still apply the
# one-step kernels' functions to the same operands, so every value is bit-identical to
# ``value_at`` at its step; they only skip recomputing what is the same for many steps.

cdef enum:
    # Longest cycle whose window a fill tabulates (8 MiB of doubles). A table is also
    # at most 1/16 of the output, so a fill's memory stays within 7% of its output.
    TABLE_MAX = 1048576
    # Steps per batch of scale_fn factors (512 KiB of doubles).
    USER_CHUNK = 65536

# Below 2**52, steps, cycle starts and offsets are exact doubles.
cdef int64_t EXACT_STEPS = 4503599627370496


cdef inline int64_t whole_period(const Params* p, int64_t last) noexcept nogil:
    """The period in steps when every step ``i <= last`` has exactly the cycle index
    ``i // period`` and offset ``i % period`` that ``position`` computes; else 0."""
    if p.integral:
        return p.iperiod
    # Fractional step sizes that add up to a whole period: below 2**52 position's fmod
    # gives the exact offset and its division the exact cycle.
    if p.period == floor(p.period) and p.period < EXACT_STEPS and last < EXACT_STEPS:
        return <int64_t>p.period
    return 0


# Fills of gamma**i (exp_range, exponential) and of cos 1cycle without a libm call per
# step.
#
# Every operation after the libm call (multiply, add, clamp, the rounding to float32) is
# monotone in that call's result. So when a cheap approximation is known to lie within
# ``d`` of libm's result, and the values computed from approximation - d and from
# approximation + d round to the same float32, the exact value rounds to it too; only
# where they differ (a value within about 2**-24 of a rounding boundary: rare) is the
# step computed the exact way. float64 output needs the libm result itself: gamma**i in
# double-double arithmetic is within 2**-8 ulp of the true power, so where it lies more
# than 15/32 ulp from a rounding boundary (about 94% of steps), glibc's pow, within
# 0.513 ulp there, must return its rounded value. The blocks use exact identities,
#     gamma**(a + b) = gamma**a * gamma**b,   cos(a + b) = cos a cos b - sin a sin b,
# with the error bounds worked out at each use; tests/test_kernels.py compares the
# paths with per-step libm calls bit for bit.

cdef enum:
    ENCLOSE_BLOCK = 256          # steps per block

cdef double POW_SLACK = 1.0 / 562949953421312.0     # 2**-49, relative
cdef double COS_SLACK = 1.0 / 35184372088832.0      # 2**-45, absolute
cdef double DD_ERR_MAX = 1.0 / 2.0 ** 62            # the dd bound the blocks rely on
cdef double NORMAL_FLOOR = 1.0 / 2.0 ** 960         # float32: every product stays normal
cdef double POW_TIGHT_FLOOR = 1.0 / 2.0 ** 64       # float64: where pow's 0.513 ulp holds
cdef double HEAD_ROOM = 1.0 + 1.0 / 2.0 ** 48       # above any pow of a later step


cdef struct GammaRun:
    # gamma**i block by block (blocks of ENCLOSE_BLOCK steps from step 0), in
    # double-double: ``head`` at the first step of block ``block``, ``stride`` =
    # gamma**ENCLOSE_BLOCK, and the table gamma**j = th[j] + tl[j] (th split into
    # ths + thl), j < ENCLOSE_BLOCK, each within ``table_err`` (relative).
    double gamma
    int64_t block
    dd head
    dd stride
    double table_err
    double th[ENCLOSE_BLOCK]
    double tl[ENCLOSE_BLOCK]
    double ths[ENCLOSE_BLOCK]
    double thl[ENCLOSE_BLOCK]


cdef void gamma_run_init(GammaRun* run, double gamma) noexcept nogil:
    cdef dd x, g
    cdef Py_ssize_t j
    x.hi, x.lo, x.err = 1.0, 0.0, 0.0
    g.hi, g.lo, g.err = gamma, 0.0, 0.0
    for j in range(ENCLOSE_BLOCK):
        run.th[j] = x.hi
        run.tl[j] = x.lo
        dd_split(x.hi, &run.ths[j], &run.thl[j])
        x = dd_mul(x, g)
    run.gamma = gamma
    run.stride = x
    run.table_err = x.err
    run.block = -2


cdef inline void gamma_run_seek(GammaRun* run, int64_t block) noexcept nogil:
    """Make ``run.head`` gamma**(block * ENCLOSE_BLOCK): one product from the block
    before, else by squaring (whose error bound grows with the exponent)."""
    if block == run.block + 1:
        run.head = dd_mul(run.head, run.stride)
    elif block != run.block:
        run.head = dd_pow(run.gamma, block * ENCLOSE_BLOCK)
    run.block = block


cdef double ONES[ENCLOSE_BLOCK]          # the window of a plain exponential decay


cdef void fill_ones() noexcept nogil:
    cdef Py_ssize_t k
    for k in range(ENCLOSE_BLOCK):
        ONES[k] = 1.0


fill_ones()


cdef void gamma_segment(floating* o, Py_ssize_t m, int64_t i, const double* window,
                        double base, double span, double lo, double hi,
                        GammaRun* run) noexcept nogil:
    """``gamma_value`` of steps ``i .. i+m-1`` (below 2**52, gamma < 1) with factors
    pow(gamma, i) and windows ``window[0 .. m-1]`` (NULL: all 1), block by block.

    For a cyclic schedule gamma_value is scaled_height's arithmetic: the peak is never
    pinned (with gamma < 1, f < 1 at every step i >= 1; at i = 0, w = 0), ``hi - h*f``
    is ``hi + (-h)*f`` exactly and the clamp on the side that cannot bind is a no-op.

    - blocks whose largest possible value is ``base`` hold it (the amplitude is below
      an ulp: monotone, so exact);
    - float32: the factor head.hi * th[j] is within 1.5 ulp of the true power, 2.5 ulp of
      any libm pow within 1 ulp, inside POW_SLACK (8 ulp) while all stay normal;
    - float64, where pow is tight: the factor from double-double, see above;
    - anything else: pow at every step, as ``value_at``.
    """
    cdef Py_ssize_t k = 0, a, b, j, at, unsure
    cdef Py_ssize_t where[ENCLOSE_BLOCK]
    cdef const double* w
    cdef double head, top
    cdef double gamma = run.gamma
    cdef bint exact
    while k < m:
        j = <Py_ssize_t>((i + k) % ENCLOSE_BLOCK)
        b = ENCLOSE_BLOCK - j if ENCLOSE_BLOCK - j < m - k else m - k
        if window == NULL:
            w = &ONES[0]
        else:
            w = window + k
        gamma_run_seek(run, (i + k) // ENCLOSE_BLOCK)
        exact = True
        if run.head.err + run.table_err <= DD_ERR_MAX:
            head = run.head.hi
            top = gamma_value(base, span, lo, hi, 1.0, head * HEAD_ROOM)
            if top == base:
                fill_constant(o + k, b, base)
                exact = False
            elif floating is float:
                if head * run.th[ENCLOSE_BLOCK - 1] >= NORMAL_FLOOR:
                    exact = gamma_enclose(o + k, b, head, run.th + j, w, base, span, lo,
                                          hi, POW_SLACK)
            elif POW_IS_TIGHT and head * run.th[ENCLOSE_BLOCK - 1] >= POW_TIGHT_FLOOR:
                if gamma_exact(o + k, b, head, run.head.lo, run.th + j, run.tl + j,
                               run.ths + j, run.thl + j, w, base, span, lo, hi):
                    # The NaN steps: pow decides
                    unsure = nan_positions(o + k, b, where)
                    for a in range(unsure):
                        at = where[a]
                        o[k + at] = gamma_value(base, span, lo, hi, w[at],
                                                pow(gamma, <double>(i + k + at)))
                exact = False
        if exact:
            for a in range(b):
                o[k + a] = <floating>gamma_value(base, span, lo, hi, w[a],
                                                 pow(gamma, <double>(i + k + a)))
        k += b


cdef void cos_phase_f32(double start_lr, double end_lr, double begin, double span,
                        int64_t x0, float* o, Py_ssize_t m) noexcept nogil:
    """float32 cos-annealed 1cycle values of steps ``x0 .. x0+m-1`` (below 2**52), all in
    the phase that starts at ``begin``. Per block, the libm cos and sin of the block's
    first angle ``A`` (the exact path's own operand) and a table of ``cos`` and ``sin`` of
    ``a * (pi / span)`` give cos(A + a*pi/span); its distance to libm's cos of the
    exact path's operand is at most 2**-47.0: each rounded angle is within 4 * 2**-53 *
    pi of the true one (twice), the table's within 3 * 2**-53 * pi, and the libm values
    (within 1 ulp each) and the three roundings add at most 2**-50.3. COS_SLACK is
    2**-45."""
    cdef double cosines[ENCLOSE_BLOCK]
    cdef double sines[ENCLOSE_BLOCK]
    cdef double delta = M_PI / span
    cdef double half = (start_lr - end_lr) / 2.0       # anneal's own first operation
    cdef double angle, ca, sa, c
    cdef Py_ssize_t k = 0, a, b
    for a in range(ENCLOSE_BLOCK):
        cosines[a] = cos(<double>a * delta)
        sines[a] = sin(<double>a * delta)
    while k < m:
        b = ENCLOSE_BLOCK if ENCLOSE_BLOCK < m - k else m - k
        angle = M_PI * ((<double>(x0 + k) - begin) / span)
        ca = cos(angle)
        sa = sin(angle)
        if cos_enclose(o + k, b, ca, sa, cosines, sines, end_lr, half, COS_SLACK):
            for a in range(b):
                c = ca * cosines[a] - sa * sines[a]
                if o[k + a] != <float>cos_anneal(end_lr, half, c + COS_SLACK):
                    o[k + a] = <float>anneal(ANNEAL_COS, start_lr, end_lr,
                                             (<double>(x0 + k + a) - begin) / span)
        k += b


cdef inline void cyclic_segment(const Params* kernel, floating* o, Py_ssize_t m,
                                int64_t i, int64_t c, int64_t t, const double* window,
                                double wmin, double wmax, GammaRun* run) noexcept nogil:
    """Steps ``i .. i+m-1``, all in cycle ``c``, at offsets ``t .. t+m-1``: the envelope
    factor once (per step for ``gamma**i``), the window from ``window`` (a table of one
    cycle, whose least and greatest values are ``wmin`` and ``wmax``) or, when it is
    NULL, per step. ``run``, when not NULL, is ``gamma_segment``'s (``window`` is then
    a table too)."""
    # A local copy: stores to ``o`` cannot change it, so the compiler keeps the
    # parameters in registers and vectorizes without runtime alias checks.
    cdef Params q = kernel[0]
    cdef const Params* p = &q
    cdef Py_ssize_t k
    cdef double f, low, high
    if run != NULL and i < EXACT_STEPS - m:
        # gamma_value's operands (see there)
        if p.inverted:
            gamma_segment(o, m, i, window + t, p.hi, -(p.hi - p.lo), p.lo, p.hi, run)
        else:
            gamma_segment(o, m, i, window + t, p.lo, p.hi - p.lo, p.lo, p.hi, run)
        return
    if p.envelope == GAMMA_STEPS and window != NULL:
        for k in range(m):
            o[k] = <floating>cyclic_value(p, window[t + k], pow(p.gamma, <double>(i + k)))
    elif p.envelope == GAMMA_STEPS:
        for k in range(m):
            o[k] = <floating>cyclic_value(p, window_at(p, <double>(t + k)),
                                          pow(p.gamma, <double>(i + k)))
    elif window == NULL:
        f = envelope_at(p, <double>c, i)
        for k in range(m):
            o[k] = <floating>cyclic_value(p, window_at(p, <double>(t + k)), f)
    else:
        f = envelope_at(p, <double>c, i)
        # Each rounded operation is monotone, so the value is monotone in the window:
        # when the cycle's least and greatest windows give the same value, every step of
        # the cycle has it. This is exact, and it is what makes long triangular2 runs
        # (whose amplitude falls below an ulp of base_lr within about 60 cycles, and
        # later into subnormals, which are slow) cheap.
        low = cyclic_value(p, wmin, f)
        high = cyclic_value(p, wmax, f)
        if low == high and low != 0.0:       # (a zero could come in two signs)
            fill_constant(o, m, low)
        elif f != 1.0:                       # below full amplitude: no peak to pin
            for k in range(m):
                o[k] = <floating>scaled_height(p, height_of(p, window[t + k]), False, f)
        else:
            for k in range(m):
                o[k] = <floating>cyclic_value(p, window[t + k], f)


cdef void fill_cyclic(const Params* p, int64_t start, floating* out, Py_ssize_t n,
                      int64_t period, const double* window, double wmin,
                      double wmax, GammaRun* run) noexcept nogil:
    """Cyclic values cycle by cycle."""
    cdef int64_t c = start // period
    cdef int64_t t = start - c * period
    cdef Py_ssize_t j = 0, m
    while j < n:
        m = n - j
        if period - t < m:
            m = <Py_ssize_t>(period - t)
        cyclic_segment(p, out + j, m, start + j, c, t, window, wmin, wmax, run)
        j += m
        t = 0
        c += 1


cdef void fill_cyclic_periodic(const Params* p, int64_t start, floating* out,
                               Py_ssize_t n, int64_t period,
                               Py_ssize_t budget) noexcept nogil:
    cdef double* window = NULL
    cdef GammaRun run
    cdef double wmin = 1.0, wmax = 0.0
    cdef int64_t k
    cdef Py_ssize_t j, block
    if p.envelope == FLAT and period < n:
        # The factor is 1 in every cycle, so the run repeats with the period: compute
        # its first period, then copy it forward (no table). Short periods are first
        # doubled up to a block of 4096 values, so each copy is long.
        block = <Py_ssize_t>period
        fill_cyclic(p, start, out, block, period, NULL, 0.0, 0.0, NULL)
        while block < 4096 and 2 * block <= n:
            memcpy(out + block, out, <size_t>block * sizeof(floating))
            block *= 2
        j = block
        while j < n:
            memcpy(out + j, out, <size_t>(block if n - j > block else n - j) * sizeof(floating))
            j += block
        return
    # A table within the memory budget, when the run reuses it (two cycles or more).
    # A failed malloc only costs speed.
    if (period <= TABLE_MAX and period * <int64_t>sizeof(double) <= budget
            and n >= 2 * period):
        window = <double*>malloc(<size_t>period * sizeof(double))
    if window != NULL:
        for k in range(period):
            window[k] = window_at(p, <double>k)
            wmin = window[k] if window[k] < wmin else wmin
            wmax = window[k] if window[k] > wmax else wmax
    if (window != NULL and p.envelope == GAMMA_STEPS and p.gamma < 1.0
            and n >= 16 * ENCLOSE_BLOCK):
        # gamma**i block by block: worth its table when there are many blocks
        gamma_run_init(&run, p.gamma)
        fill_cyclic(p, start, out, n, period, window, wmin, wmax, &run)
    else:
        fill_cyclic(p, start, out, n, period, window, wmin, wmax, NULL)
    free(window)


cdef void fill_step_decay(const Params* p, int64_t start, floating* out, Py_ssize_t n,
                          int64_t period) noexcept nogil:
    """Step decay: one value per period."""
    cdef int64_t c = start // period
    cdef int64_t t = start - c * period
    cdef Py_ssize_t j = 0, m
    while j < n:
        m = n - j
        if period - t < m:
            m = <Py_ssize_t>(period - t)
        fill_constant(out + j, m, p.lo * pow(p.gamma, <double>c))
        j += m
        t = 0
        c += 1


cdef void fill_one_cycle(const Params* p, int64_t start, floating* out,
                         Py_ssize_t n) noexcept nogil:
    """1cycle phase by phase, with ``one_cycle_at``'s test and arithmetic; the steps past
    the end hold the final value."""
    cdef Py_ssize_t j = 0, live = n, stop
    cdef int k, last = p.nphases - 1
    cdef double begin = 0.0, span, x
    if start > p.last_step:
        live = 0
    elif p.last_step - start < n:
        live = <Py_ssize_t>(p.last_step - start) + 1
    for k in range(p.nphases):
        span = p.phase_end[k] - begin
        if floating is float:
            # The steps of this phase, x <= phase_end (all that are left in the last).
            if p.anneal == ANNEAL_COS and start < EXACT_STEPS - live:
                stop = live
                if k != last:
                    x = floor(p.phase_end[k]) - <double>start + 1.0
                    stop = j if x <= <double>j else (live if x >= <double>live
                                                     else <Py_ssize_t>x)
                if stop - j >= 2 * ENCLOSE_BLOCK:
                    cos_phase_f32(p.phase_from[k], p.phase_to[k], begin, span, start + j,
                                  out + j, stop - j)
                    j = stop
        while j < live:
            x = <double>(start + j)
            if k != last and not x <= p.phase_end[k]:
                break
            out[j] = <floating>anneal(p.anneal, p.phase_from[k], p.phase_to[k],
                                      (x - begin) / span)
            j += 1
        begin = p.phase_end[k]
    if live < n:
        fill_constant(out + live, n - live, one_cycle_at(p, p.last_step))


cdef void fill_run(const Params* p, int64_t start, floating* out, Py_ssize_t n,
                   Py_ssize_t budget) noexcept nogil:
    """Steps ``start .. start+n-1`` (``n >= 1``) of any kernel but a chain or a user
    ``scale_fn``, by the fastest exact fill for its kind, with temporary tables of at
    most ``budget`` bytes."""
    cdef int64_t period
    cdef GammaRun* run
    if p.kind == CYCLIC or p.kind == STEP_DECAY:
        period = whole_period(p, start + (n - 1))
        if period > 0 and p.kind == CYCLIC:
            fill_cyclic_periodic(p, start, out, n, period, budget)
            return
        if period > 0:
            fill_step_decay(p, start, out, n, period)
            return
    elif p.kind == ONE_CYCLE:
        fill_one_cycle(p, start, out, n)
        return
    elif p.kind == CONSTANT:
        fill_constant(out, n, p.lo)
        return
    elif (p.kind == EXPONENTIAL and p.gamma < 1.0 and n >= 16 * ENCLOSE_BLOCK
            and start < EXACT_STEPS - n):
        # lr * gamma**i: gamma_value with base 0, span lr, every window 1, no bounds
        run = <GammaRun*>malloc(sizeof(GammaRun))
        if run != NULL:
            gamma_run_init(run, p.gamma)
            gamma_segment(out, n, start, NULL, 0.0, p.lo, 0.0, INFINITY, run)
            free(run)
            return
    fill_values(p, start, out, n)


# ---------------------------------------------------------------------------
# 3. The extension type
# ---------------------------------------------------------------------------

cdef int64_t as_step(object i, str name) except -1:
    """``i`` as an int64 step >= 0, or a TypeError/ValueError naming ``name``."""
    cdef int64_t v
    if type(i) is not int:
        try:
            if isinstance(i, bool):
                raise TypeError
            i = i.__index__()
        except (TypeError, AttributeError):
            raise TypeError(f"{name} must be an integer >= 0, got {i!r}") from None
    try:
        v = i
    except OverflowError:
        raise ValueError(f"{name} must be an integer in [0, 2**63 - 1], got {i!r}") from None
    if v < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {i!r}")
    return v


cdef double checked_factor(object scale_fn, object arg) except? -1.0:
    cdef object r = scale_fn(arg)
    cdef double f
    try:
        f = r
    except TypeError:
        raise TypeError(f"scale_fn must return a real number, got {r!r} for {arg!r}") from None
    except OverflowError:       # an int beyond the float range, say 10**400
        raise ValueError(f"scale_fn must return a number in [0, 1], got a number too "
                         f"large for a float for {arg!r}") from None
    if not (0.0 <= f <= 1.0):
        raise ValueError(f"scale_fn must return a number in [0, 1], got {r!r} for {arg!r}")
    return f


@cython.final
cdef class _Segments:
    """The segments of a chain: kernels, their first global steps and lengths."""
    cdef tuple kernels
    cdef int64_t[::1] starts
    cdef int64_t[::1] lengths     # -1: open-ended (only the last)


@cython.auto_pickle(False)
cdef class Kernel:
    """The C side of a schedule: parameters, the one-step value and the fill.

    Not for direct use: ``cyclr.schedules`` builds every schedule on top of it.
    """
    cdef Params p
    cdef bint ready
    cdef object scale_fn
    cdef _Segments segments
    cdef vectorcallfunc vectorcall

    def __cinit__(self):
        cdef PyTypeObject* tp = Py_TYPE(self)
        self.vectorcall = <vectorcallfunc><void*>kernel_vectorcall
        # Python < 3.12 does not pass the vectorcall flag on to mutable subclasses (the
        # Schedule classes): the first instance gives it to a subclass that keeps
        # Kernel.__call__ (extension types cannot hook __init_subclass__). On 3.11 a
        # __call__ assigned to such a class later would go unseen, as for any type
        # with vectorcall; 3.12 clears the flag then.
        if ((tp.tp_flags & HAVE_VECTORCALL) == 0 and VECTORCALL_OFFSET > 0
                and <void*>tp.tp_call == KERNEL_TP_CALL):
            cyclr_set_vectorcall(tp, VECTORCALL_OFFSET)

    # -- set-up (called once, by cyclr.schedules) --------------------------------

    cdef int _claim(self) except -1:
        if self.ready:
            raise AttributeError("schedules are immutable")
        self.ready = True
        return 0

    def _setup_simple(self, str kind, double lo, double hi=0.0, double gamma=1.0,
                      double span=1.0):
        """constant, decay, exponential, step_decay."""
        self._claim()
        self.p.kind = _KINDS[kind]
        self.p.lo = lo
        self.p.hi = hi
        self.p.gamma = gamma
        self.p.span = span
        self._set_period(span, 0.0)

    def _setup_cyclic(self, double lo, double hi, double up, double down, str window,
                      str envelope, double gamma=1.0, object scale_fn=None,
                      bint inverted=False):
        self._claim()
        self.p.kind = CYCLIC
        self.p.lo = lo
        self.p.hi = hi
        self.p.gamma = gamma
        self.p.inverted = inverted
        self.p.window = _WINDOWS[window]
        self.p.envelope = _ENVELOPES[envelope]
        self.p.up = up
        self.p.down = down
        self._set_period(up, down)
        self.scale_fn = scale_fn

    def _setup_one_cycle(self, list ends, list starts, list stops, str how,
                         int64_t last_step):
        cdef int k
        if not 1 <= len(ends) <= 3 or len(starts) != len(ends) or len(stops) != len(ends):
            raise ValueError(
                f"a 1cycle has 1 to 3 phases, each with an end, a start and a stop value; "
                f"got {len(ends)} ends, {len(starts)} starts, {len(stops)} stops")
        if last_step < 0:
            raise ValueError(f"last_step must be >= 0, got {last_step}")
        self._claim()
        self.p.kind = ONE_CYCLE
        self.p.nphases = len(ends)
        self.p.anneal = _ANNEALS[how]
        self.p.last_step = last_step
        for k in range(self.p.nphases):
            self.p.phase_end[k] = ends[k]
            self.p.phase_from[k] = starts[k]
            self.p.phase_to[k] = stops[k]

    def _setup_chain(self, tuple kernels, lengths):
        """``lengths``: one int >= 1 per kernel, the last may be None (open-ended)."""
        cdef Py_ssize_t k, m = len(kernels)
        cdef int64_t at = 0
        if m == 0 or len(lengths) != m:
            raise ValueError(f"a chain needs one length per segment and at least one "
                             f"segment, got {m} segments and {len(lengths)} lengths")
        for k in range(m):
            if lengths[k] is None and k != m - 1:
                raise ValueError(f"only the last segment may be open-ended; segment {k} "
                                 f"has length None")
            if lengths[k] is not None and not 1 <= lengths[k] <= INT64_MAX:
                raise ValueError(f"segment {k} must have a length >= 1, got {lengths[k]!r}")
        self._claim()
        seg = _Segments()
        seg.kernels = kernels
        seg.starts = np.empty(m, dtype=np.int64)
        seg.lengths = np.empty(m, dtype=np.int64)
        for k in range(m):
            if not isinstance(kernels[k], Kernel):
                raise TypeError(f"chain segment {k} must be a cyclr schedule, got {kernels[k]!r}")
            (<Kernel>kernels[k])._check_ready()
            seg.starts[k] = at
            seg.lengths[k] = -1 if lengths[k] is None else lengths[k]
            if lengths[k] is not None:
                if at > INT64_MAX - seg.lengths[k]:
                    raise ValueError("chain is longer than 2**63 - 1 steps")
                at += seg.lengths[k]
        self.p.kind = CHAIN
        self.segments = seg

    cdef void _set_period(self, double up, double down):
        self.p.period = up + down
        self.p.integral = (floor(up) == up and floor(down) == down
                           and self.p.period < 9.2e18)
        self.p.iperiod = <int64_t>self.p.period if self.p.integral else 0

    # -- one step -----------------------------------------------------------------

    def __call__(self, i):
        """The value at step ``i`` (int >= 0), as a Python float."""
        return self._value(as_step(i, "step"))

    cdef int _check_ready(self) except -1:
        if not self.ready:
            raise ValueError(f"this {type(self).__name__} was never set up: build "
                             f"schedules with cyclr's constructors")
        return 0

    cdef double _value(self, int64_t i) except? -1.0:
        cdef double t, c
        if not self.ready:
            self._check_ready()
        if self.p.kind == CHAIN:
            return self._chain_value(i)
        if self.scale_fn is None:
            return value_at(&self.p, i)
        c = position(&self.p, i, &t)
        if self.p.envelope == USER_CYCLES:
            f = checked_factor(self.scale_fn, int(c) + 1)
        else:
            f = checked_factor(self.scale_fn, i)
        return cyclic_value(&self.p, window_at(&self.p, t), f)

    cdef double _chain_value(self, int64_t i) except? -1.0:
        cdef _Segments seg = self.segments
        cdef Py_ssize_t lo = 0, hi = seg.starts.shape[0] - 1, k
        cdef Kernel child
        # The last segment that starts at or before i (starts[0] is 0): a bisection, so
        # a chain of many segments costs O(log segments) at every step.
        while lo < hi:
            k = hi - (hi - lo) // 2
            if seg.starts[k] <= i:
                lo = k
            else:
                hi = k - 1
        k = lo
        child = seg.kernels[k]
        i -= seg.starts[k]
        if seg.lengths[k] >= 0 and i >= seg.lengths[k]:
            i = seg.lengths[k] - 1       # a finite chain holds its last value
        return child._value(i)

    # -- whole runs -----------------------------------------------------------------

    def _fill(self, out, start):
        """Write steps ``start .. start+len(out)-1`` into ``out``, a writeable,
        C-contiguous, 1-D float64 or float32 numpy array. Returns ``out``."""
        cdef int64_t s = as_step(start, "start")
        cdef Py_ssize_t n, budget
        cdef cnp.ndarray arr
        self._check_ready()
        if not cnp.PyArray_Check(out):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        arr = <cnp.ndarray>out
        if arr.ndim != 1:
            raise ValueError(f"out must be 1-D, got shape {out.shape}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
            raise ValueError("out must be C-contiguous, got a strided array")
        if not cnp.PyArray_ISWRITEABLE(arr):
            raise ValueError("out must be writeable, got a read-only array")
        if not cnp.PyArray_ISNOTSWAPPED(arr):
            raise ValueError(f"out must be in native byte order, got dtype {arr.dtype}")
        n = arr.shape[0]
        if n > 0 and s > INT64_MAX - (n - 1):
            raise ValueError(f"start + n - 1 must be <= 2**63 - 1, got start={start!r}, n={n}")
        # Temporary memory of a fill, all of it: at most 1/16 of its output.
        budget = n * cnp.PyArray_ITEMSIZE(arr) // 16
        if arr.descr.type_num != cnp.NPY_FLOAT64 and arr.descr.type_num != cnp.NPY_FLOAT32:
            raise TypeError(f"out must have dtype float64 or float32, got {arr.dtype}")
        try:
            if arr.descr.type_num == cnp.NPY_FLOAT64:
                self._fill_into(<double*>cnp.PyArray_DATA(arr), n, s, budget)
            else:
                self._fill_into(<float*>cnp.PyArray_DATA(arr), n, s, budget)
        except Exception as exc:
            # Only a user scale_fn can fail here, after some chunks were written.
            if hasattr(exc, "add_note"):
                exc.add_note("out was partly written before this error: its contents "
                             "are not a schedule's values")
            raise
        return out

    cdef int _fill_into(self, floating* out, Py_ssize_t n, int64_t start,
                        Py_ssize_t budget) except -1:
        """Fill ``out[0:n]`` with steps ``start ..``, using at most ``budget`` bytes of
        temporary memory at any time (a chain fills its segments one after another)."""
        cdef Py_ssize_t j = 0, m
        if n == 0:
            return 0
        if self.p.kind == CHAIN:
            return self._fill_chain(out, n, start, budget)
        if self.scale_fn is not None:
            # In chunks, so the buffer of factors from scale_fn stays small.
            while j < n:
                m = n - j if n - j < USER_CHUNK else USER_CHUNK
                self._fill_user(out + j, m, start + j)
                j += m
            return 0
        with nogil:
            fill_run(&self.p, start, out, n, budget)
        return 0

    cdef int _fill_user(self, floating* out, Py_ssize_t n, int64_t start) except -1:
        # One factor per step (n is at most USER_CHUNK); per cycle, scale_fn is called
        # once per cycle the steps touch, never once per cycle in between.
        cdef double t, c, last = -1.0
        cdef double f = 0.0
        cdef Py_ssize_t k
        cdef double[::1] factor = np.empty(n, dtype=np.float64)
        for k in range(n):
            if self.p.envelope == USER_CYCLES:
                c = position(&self.p, start + k, &t)
                if k == 0 or c != last:
                    f = checked_factor(self.scale_fn, int(c) + 1)
                    last = c
                factor[k] = f
            else:
                factor[k] = checked_factor(self.scale_fn, start + k)
        with nogil:
            fill_user(&self.p, start, out, n, &factor[0])
        return 0

    cdef int _fill_chain(self, floating* out, Py_ssize_t n, int64_t start,
                         Py_ssize_t budget) except -1:
        cdef _Segments seg = self.segments
        cdef Py_ssize_t k, m = seg.starts.shape[0]
        cdef int64_t end = start + (n - 1)     # inclusive, cannot overflow
        cdef int64_t a, b, seg_last
        cdef Kernel child
        cdef double hold
        for k in range(m):
            if seg.lengths[k] < 0:
                seg_last = INT64_MAX
            else:
                seg_last = seg.starts[k] + seg.lengths[k] - 1
            a = start if start > seg.starts[k] else seg.starts[k]
            b = end if end < seg_last else seg_last
            if a > b:
                continue
            child = seg.kernels[k]
            child._fill_into(out + (a - start), <Py_ssize_t>(b - a + 1), a - seg.starts[k],
                             budget)
        if seg.lengths[m - 1] >= 0:
            seg_last = seg.starts[m - 1] + seg.lengths[m - 1] - 1
            if end > seg_last:
                a = start if start > seg_last + 1 else seg_last + 1
                hold = self._chain_value(seg_last)
                with nogil:
                    fill_constant(out + (a - start), <Py_ssize_t>(end - a + 1), hold)
        return 0


cdef object kernel_vectorcall(object self, PyObject* const* args, size_t nargsf,
                              PyObject* kwnames):
    """``Kernel.__call__`` by vectorcall: one positional step, else the general path."""
    cdef Py_ssize_t k, nargs = PyVectorcall_NARGS(nargsf)
    cdef Kernel kernel = <Kernel>self
    cdef long long i
    cdef int overflow
    if nargs == 1 and (kwnames == NULL or PyTuple_GET_SIZE(<object>kwnames) == 0):
        # The common call, s(i) with a plain int, on a kernel of pure C arithmetic.
        if (exact_int(args[0]) and kernel.ready and kernel.p.kind != CHAIN
                and kernel.scale_fn is None):
            i = int_value(args[0], &overflow)
            if overflow == 0 and i >= 0:
                return value_at(&kernel.p, i)
        return kernel._value(as_step(<object>args[0], "step"))
    # Anything else (a keyword, a wrong count) gets tp_call's handling and messages.
    positional = tuple([<object>args[k] for k in range(nargs)])
    keywords = {}
    if kwnames != NULL:
        for k in range(PyTuple_GET_SIZE(<object>kwnames)):
            keywords[(<tuple>kwnames)[k]] = <object>args[nargs + k]
    return Kernel.__call__(self, *positional, **keywords)


cdef Py_ssize_t vectorcall_offset():
    cdef Kernel probe = Kernel.__new__(Kernel)
    return <char*>&probe.vectorcall - <char*><PyObject*>probe


cdef void* KERNEL_TP_CALL = <void*>(<PyTypeObject*>Kernel).tp_call
cdef Py_ssize_t VECTORCALL_OFFSET = 0
VECTORCALL_OFFSET = vectorcall_offset()
cyclr_set_vectorcall(<PyTypeObject*>Kernel, VECTORCALL_OFFSET)
