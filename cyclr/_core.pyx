# Kernels of cyclr: the arithmetic of every schedule (docs/arithmetic.md).
#
# Layers, top-down in this file (scikit-learn's ``_loss.pyx`` has the same ones):
#   0. C point formulas, each written once, in ``src/formulas.h`` (the cyclic value with
#      its bound guards, torch's cos anneal), and the C inner loops of the block fills in
#      ``src/blocks.h``; declared here with ``cdef extern from``;
#   1. enums and the parameter struct, whose fields are named by their role;
#   2. one-step kernels: ``cdef inline double ..._at(const Params*, int64_t)``, pure C on
#      the struct, ``noexcept nogil``; the policy is chosen by ``cdef enum``s;
#   3. fill loops: write steps ``start .. start+n-1`` into a caller's buffer under
#      ``nogil``; they apply the one-step kernels' own functions to the same operands,
#      only hoisting what a cycle or phase shares (position, envelope factor, a table of
#      one cycle's window, whole repeated cycles), so ``s(i)`` and ``s.array(...)[i]``
#      are bit-identical by construction; the exact block fills of gamma**i and cos
#      1cycle, with their error bounds, are in ``_blocks.pxi`` (docs/block-fills.md);
#   4. ``Kernel``: the extension type that owns the parameters (set once, by keyword),
#      checks every buffer it is handed (type, dtype, ndim, contiguity, writeability)
#      before any ``nogil`` loop, calls a user ``scale_fn`` (with the GIL) when there is
#      one, and walks chains;
#   5. ``cyclr/schedules/`` (plain Python): validation, constructors, repr, equality,
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


# ---------------------------------------------------------------------------
# 0. C declarations
# ---------------------------------------------------------------------------

cdef extern from "src/formulas.h":
    double cyclr_value(double low, double high, bint inverted, double height, bint peak,
                       double f) noexcept nogil
    double cos_anneal "cyclr_cos_anneal"(double end, double half, double c) noexcept nogil
    double cosine_height "cyclr_cosine_height"(double span, double t,
                                               double length) noexcept nogil

cdef extern from "src/blocks.h":
    bint gamma_enclose "cyclr_gamma_enclose"(
        float* o, Py_ssize_t b, double head, const double* powers, const double* window,
        double span, double low, double high, bint inverted, double slack) noexcept nogil
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
        const double* window, double span, double low, double high,
        bint inverted) noexcept nogil
    Py_ssize_t nan_positions "cyclr_nan_positions"(
        const double* o, Py_ssize_t b, Py_ssize_t* where) noexcept nogil
    bint cos_enclose "cyclr_cos_enclose"(
        float* o, Py_ssize_t b, double ca, double sa, const double* cosines,
        const double* sines, double end, double half, double slack) noexcept nogil

cdef extern from "src/vectorcall.h":
    int cyclr_set_vectorcall(PyTypeObject* type, Py_ssize_t offset)

cdef extern from *:
    ctypedef PyObject* (*vectorcallfunc)(PyObject*, PyObject* const*, size_t, PyObject*)
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)
    PyTypeObject* Py_TYPE(object)
    unsigned long HAVE_VECTORCALL "Py_TPFLAGS_HAVE_VECTORCALL"
    # Borrowed-pointer forms, so the scalar fast path touches no reference counts.
    bint exact_int "PyLong_CheckExact"(PyObject* o)
    long long int_value "PyLong_AsLongLongAndOverflow"(PyObject* o, int* overflow)


# ---------------------------------------------------------------------------
# 1. Enums and parameters
# ---------------------------------------------------------------------------

cdef enum Kind:
    CONSTANT
    RAMP_LINEAR      # linear from start to end over steps, then end (decay, warm-up)
    RAMP_COS         # cosine from start to end over steps, then end
    EXPONENTIAL
    STEP_DECAY
    CYCLIC
    RESTARTS         # cosine annealing with warm restarts (SGDR)
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

_WINDOWS = {"linear": LINEAR, "welch": WELCH, "hann": HANN}
_ENVELOPES = {"flat": FLAT, "halving": HALVING, "gamma_steps": GAMMA_STEPS,
              "gamma_cycles": GAMMA_CYCLES, "user_cycles": USER_CYCLES,
              "user_steps": USER_STEPS}
_ANNEALS = {"cos": ANNEAL_COS, "linear": ANNEAL_LINEAR}


cdef struct Params:
    Kind kind
    # constant, exponential, step decay: the LR at step 0 (and the factor's base)
    double lr
    double gamma             # also exp_range's envelope base
    # ramps (linear, cosine): from ``start`` at step 0 to ``end`` at step ``steps``,
    # then ``end``
    double start
    double end
    double steps
    # cyclic: the value is ``low`` where the window is 0 and ``high`` where it is 1
    # (``inverted``, for momentum: ``high`` at 0 and ``low`` at 1); step decay uses the
    # period fields too, with its step size as ``up`` and ``down`` 0
    double low
    double high
    bint inverted
    Window window
    Envelope envelope
    double up
    double down
    double period
    # Whole-number step sizes: cycle position by int64 division (exact for any step).
    bint integral
    int64_t iperiod
    # restarts: cycles of growing length (a table of ``ncycles`` cycles, the last one
    # reaching past step 2**63 - 1): cycle k starts at step ``cycle_start[k]`` plus
    # ``cycle_offset[k]`` (the fractional part, so the offset into the cycle at step i is
    # ``i - cycle_start[k] + cycle_offset[k]``), lasts ``cycle_length[k]`` steps and has
    # the amplitude factor ``cycle_factor[k]``. With ``ncycles == 0`` every cycle lasts
    # ``period`` (cycle c: factor gamma**c), and the position is ``position``'s.
    Py_ssize_t ncycles
    const int64_t* cycle_start
    const double* cycle_offset
    const double* cycle_length
    const double* cycle_factor
    # one cycle (PyTorch OneCycleLR phases)
    int nphases
    Anneal anneal
    int64_t last_step
    double phase_end[3]
    double phase_from[3]
    double phase_to[3]


# ---------------------------------------------------------------------------
# 2. One-step kernels
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
    # In two steps, so that fills can tabulate the first (the height).
    # ``&``, not ``and``: no short-circuit jumps, so fill loops vectorize.
    return scaled_height(p, height_of(p, w), (w == 1.0) & (f == 1.0), f)


cdef inline double height_of(const Params* p, double w) noexcept nogil:
    return (p.high - p.low) * w


cdef inline double scaled_height(const Params* p, double height, bint peak,
                                 double f) noexcept nogil:
    return cyclr_value(p.low, p.high, p.inverted, height, peak, f)


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


cdef inline Py_ssize_t last_start(const int64_t* starts, Py_ssize_t n,
                                   int64_t i) noexcept nogil:
    """The last ``k < n`` with ``starts[k] <= i``, for non-decreasing ``starts`` with
    ``starts[0] <= i``: a bisection (chain segments, restart cycles)."""
    cdef Py_ssize_t lo = 0, hi = n - 1, k
    while lo < hi:
        k = hi - (hi - lo) // 2
        if starts[k] <= i:
            lo = k
        else:
            hi = k - 1
    return lo


cdef inline Py_ssize_t restart_cycle(const Params* p, int64_t i) noexcept nogil:
    """The last cycle of the table that starts at or before step ``i``."""
    return last_start(p.cycle_start, p.ncycles, i)


cdef inline double restart_value(const Params* p, double t, double length,
                                 double f) noexcept nogil:
    """A warm-restart value at offset ``t`` of a cycle of ``length`` steps with the
    amplitude factor ``f``: the height falls from ``high - low`` to 0 along a half
    cosine. No peak is pinned (torch's arithmetic), only the bounds clamp."""
    return cyclr_value(p.low, p.high, p.inverted, cosine_height(p.high - p.low, t, length),
                       False, f)


cdef inline double restarts_at(const Params* p, int64_t i) noexcept nogil:
    cdef double t, c
    cdef Py_ssize_t k
    if p.ncycles == 0:
        c = position(p, i, &t)
        return restart_value(p, t, p.period, pow(p.gamma, c))
    k = restart_cycle(p, i)
    t = <double>(i - p.cycle_start[k]) + p.cycle_offset[k]
    return restart_value(p, t, p.cycle_length[k], p.cycle_factor[k])


cdef inline double value_at(const Params* p, int64_t i) noexcept nogil:
    """The value of any non-chain, non-user kernel at step ``i``."""
    cdef double t, c, x
    if p.kind == CYCLIC:
        return cyclic_at(p, i)
    if p.kind == ONE_CYCLE:
        return one_cycle_at(p, i)
    if p.kind == CONSTANT:
        return p.lr
    if p.kind == RAMP_LINEAR:
        if <double>i >= p.steps:
            return p.end                 # reached the end: hold it exactly
        return p.start + (p.end - p.start) * <double>i / p.steps
    if p.kind == RAMP_COS:
        # cos(pi) is -1 exactly in double, so the end is reached exactly.
        x = <double>i if <double>i < p.steps else p.steps
        return p.end + cosine_height(p.start - p.end, x, p.steps)
    if p.kind == RESTARTS:
        return restarts_at(p, i)
    if p.kind == EXPONENTIAL:
        return p.lr * pow(p.gamma, <double>i)
    # STEP_DECAY: the period is the decay step size
    c = position(p, i, &t)
    return p.lr * pow(p.gamma, c)

# ---------------------------------------------------------------------------
# 3. Fill loops
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

include "_blocks.pxi"


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
        gamma_segment(o, m, i, window + t, p.high - p.low, p.low, p.high, p.inverted, run)
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
        fill_constant(out + j, m, p.lr * pow(p.gamma, <double>c))
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


cdef void fill_restarts(const Params* p, int64_t start, floating* out,
                        Py_ssize_t n) noexcept nogil:
    """Warm restarts cycle by cycle: the cycle's table entry (or its index, for equal
    cycles) once per cycle, ``restart_value`` per step."""
    cdef Py_ssize_t j = 0, m, a, k
    cdef int64_t period, c, t
    cdef double f, length, offset
    if p.ncycles == 0:
        period = whole_period(p, start + (n - 1))
        if period == 0:
            fill_values(p, start, out, n)
            return
        c = start // period
        t = start - c * period
        while j < n:
            m = n - j if period - t > n - j else <Py_ssize_t>(period - t)
            f = pow(p.gamma, <double>c)
            for a in range(m):
                out[j + a] = <floating>restart_value(p, <double>(t + a), p.period, f)
            j += m
            t = 0
            c += 1
        return
    k = restart_cycle(p, start)
    while j < n:
        # Steps start+j .. before the next cycle's first step are in cycle k; the last
        # cycle of the table holds every step to 2**63 - 1.
        m = n - j
        if k + 1 < p.ncycles and p.cycle_start[k + 1] - (start + j) < m:
            m = <Py_ssize_t>(p.cycle_start[k + 1] - (start + j))
        offset = p.cycle_offset[k]
        length = p.cycle_length[k]
        f = p.cycle_factor[k]
        for a in range(m):
            out[j + a] = <floating>restart_value(
                p, <double>(start + j + a - p.cycle_start[k]) + offset, length, f)
        j += m
        k += 1


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
    elif p.kind == RESTARTS:
        fill_restarts(p, start, out, n)
        return
    elif p.kind == CONSTANT:
        fill_constant(out, n, p.lr)
        return
    elif (p.kind == EXPONENTIAL and p.gamma < 1.0 and n >= 16 * ENCLOSE_BLOCK
            and start < EXACT_STEPS - n):
        # lr * gamma**i: cyclr_value with low 0, height lr (every window 1), no bound
        run = <GammaRun*>malloc(sizeof(GammaRun))
        if run != NULL:
            gamma_run_init(run, p.gamma)
            gamma_segment(out, n, start, NULL, p.lr, 0.0, INFINITY, False, run)
            free(run)
            return
    fill_values(p, start, out, n)

# ---------------------------------------------------------------------------
# 4. The extension type
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


cdef object cycle_number(double c, double period):
    """The 1-based cycle number a per-cycle ``scale_fn`` gets for 0-based cycle ``c``."""
    if not isfinite(c):
        # A cycle length so small that the cycle count overflows a double (5e-324)
        raise ValueError(f"the cycle number is beyond every float for cycles of {period!r} "
                         f"steps: step_size + step_size_down is too small for a "
                         f"per-cycle scale_fn")
    return int(c) + 1


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
    cdef tuple _cycles             # owns the arrays a restarts kernel points into
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

    # Each setup takes its parameters by keyword, named by their role; the Python
    # classes validate them first (these check only what could crash the process).

    def _setup_constant(self, *, double lr):
        self._claim()
        self.p.kind = CONSTANT
        self.p.lr = lr

    def _setup_ramp(self, *, double start, double end, double steps, str how):
        """From ``start`` at step 0 to ``end`` at step ``steps`` (linearly or along a
        half cosine), then ``end``."""
        if how not in ("linear", "cos"):
            raise ValueError(f"how must be 'linear' or 'cos', got {how!r}")
        if not steps > 0:
            raise ValueError(f"steps must be > 0, got {steps!r}")
        self._claim()
        self.p.kind = RAMP_LINEAR if how == "linear" else RAMP_COS
        self.p.start = start
        self.p.end = end
        self.p.steps = steps

    def _setup_restarts(self, *, double low, double high, double first_cycle,
                        double amplitude_decay, bint inverted=False, cycles=None):
        """Cosine annealing with warm restarts from ``high`` down to ``low`` (the
        reverse when ``inverted``). ``cycles``: None for cycles of ``first_cycle`` steps
        each, the amplitude times ``amplitude_decay`` per cycle; else four equal-length
        sequences (first steps, int64, from 0, non-decreasing; fractional offsets in
        [0, 1); lengths > 0; factors in [0, 1]) whose last cycle reaches past step
        2**63 - 1."""
        cdef cnp.ndarray starts, offsets, lengths, factors
        if not first_cycle > 0:
            raise ValueError(f"first_cycle must be > 0, got {first_cycle!r}")
        if cycles is not None:
            starts = np.ascontiguousarray(cycles[0], dtype=np.int64)
            offsets, lengths, factors = [np.ascontiguousarray(c, dtype=np.float64)
                                         for c in cycles[1:]]
            if (starts.ndim != 1 or starts.shape[0] == 0
                    or not all(a.ndim == 1 and a.shape[0] == starts.shape[0]
                               for a in (offsets, lengths, factors))):
                raise ValueError("cycles must be four 1-D sequences of one equal, non-zero "
                                 "length")
            if (starts[0] != 0 or (starts.shape[0] > 1 and (np.diff(starts) < 0).any())
                    or not ((offsets >= 0) & (offsets < 1)).all()
                    or not (lengths > 0).all() or not np.isfinite(lengths).all()
                    or not ((factors >= 0) & (factors <= 1)).all()):
                raise ValueError("cycles: first steps must start at 0 and not decrease, "
                                 "offsets lie in [0, 1), lengths be finite and > 0, "
                                 "factors lie in [0, 1]")
        self._claim()
        self.p.kind = RESTARTS
        self.p.low = low
        self.p.high = high
        self.p.inverted = inverted
        self.p.gamma = amplitude_decay
        self._set_period(first_cycle, 0.0)
        if cycles is not None:
            self._cycles = (starts, offsets, lengths, factors)
            self.p.ncycles = starts.shape[0]
            self.p.cycle_start = <const int64_t*>cnp.PyArray_DATA(starts)
            self.p.cycle_offset = <const double*>cnp.PyArray_DATA(offsets)
            self.p.cycle_length = <const double*>cnp.PyArray_DATA(lengths)
            self.p.cycle_factor = <const double*>cnp.PyArray_DATA(factors)

    def _setup_exponential(self, *, double lr, double gamma):
        self._claim()
        self.p.kind = EXPONENTIAL
        self.p.lr = lr
        self.p.gamma = gamma

    def _setup_step_decay(self, *, double lr, double gamma, double step_size):
        self._claim()
        self.p.kind = STEP_DECAY
        self.p.lr = lr
        self.p.gamma = gamma
        self._set_period(step_size, 0.0)

    def _setup_cyclic(self, *, double low, double high, double step_size,
                      double step_size_down, str shape, str envelope, double gamma=1.0,
                      object scale_fn=None, bint inverted=False):
        cdef Window window = _WINDOWS[shape]
        cdef Envelope env = _ENVELOPES[envelope]
        if (env == USER_CYCLES or env == USER_STEPS) != (scale_fn is not None):
            raise ValueError(f"envelope {envelope!r} does not go with scale_fn={scale_fn!r}")
        self._claim()
        self.p.kind = CYCLIC
        self.p.low = low
        self.p.high = high
        self.p.gamma = gamma
        self.p.inverted = inverted
        self.p.window = window
        self.p.envelope = env
        self.p.up = step_size
        self.p.down = step_size_down
        self._set_period(step_size, step_size_down)
        self.scale_fn = scale_fn

    def _setup_one_cycle(self, *, list ends, list starts, list stops, str anneal,
                         int64_t last_step):
        cdef int k
        if not 1 <= len(ends) <= 3 or len(starts) != len(ends) or len(stops) != len(ends):
            raise ValueError(
                f"a 1cycle has 1 to 3 phases, each with an end, a start and a stop value; "
                f"got {len(ends)} ends, {len(starts)} starts, {len(stops)} stops")
        if last_step < 0:
            raise ValueError(f"last_step must be >= 0, got {last_step}")
        cdef Anneal how = _ANNEALS[anneal]
        self._claim()
        self.p.kind = ONE_CYCLE
        self.p.nphases = len(ends)
        self.p.anneal = how
        self.p.last_step = last_step
        for k in range(self.p.nphases):
            self.p.phase_end[k] = ends[k]
            self.p.phase_from[k] = starts[k]
            self.p.phase_to[k] = stops[k]

    def _setup_chain(self, *, tuple kernels, lengths):
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
            f = checked_factor(self.scale_fn, cycle_number(c, self.p.period))
        else:
            f = checked_factor(self.scale_fn, i)
        return cyclic_value(&self.p, window_at(&self.p, t), f)

    cdef double _chain_value(self, int64_t i) except? -1.0:
        cdef _Segments seg = self.segments
        cdef Kernel child
        # The last segment that starts at or before i (starts[0] is 0), by bisection: a
        # chain of many segments costs O(log segments) at every step.
        cdef Py_ssize_t k = last_start(&seg.starts[0], seg.starts.shape[0], i)
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
                    f = checked_factor(self.scale_fn, cycle_number(c, self.p.period))
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
