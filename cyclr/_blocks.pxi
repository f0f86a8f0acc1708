# The exact block fills of gamma**i (exp_range, exponential) and of cos 1cycle, included
# by _core.pyx (section 3). The inner loops are C, in src/blocks.h; the error bounds
# they rely on are derived in docs/block-fills.md.

# Every operation after the libm call is monotone in its result, so a cheap value known
# to lie within a bound of libm's result gives the exact float when both ends of the
# enclosure round alike; elsewhere the step is computed the exact way. The bounds:
# docs/block-fills.md. tests/test_kernels.py compares with per-step libm calls.

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
                        double span, double low, double high, bint inverted,
                        GammaRun* run) noexcept nogil:
    """``cyclr_value(low, high, inverted, span * w, no peak, f)`` of steps ``i .. i+m-1``
    (below 2**52, gamma < 1) with factors f = pow(gamma, i) and windows
    ``w = window[0 .. m-1]`` (NULL: all 1), block by block.

    For a cyclic schedule (span = high - low) this is ``cyclic_value``: the peak is
    never pinned, since with gamma < 1, f < 1 at every step i >= 1, and at i = 0, w = 0.
    With low 0, span lr and high infinite it is the exponential decay lr * f.

    - blocks whose largest possible value is ``base`` (the value where the window is
      0) hold it (the amplitude is below an ulp: monotone, so exact);
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
    cdef double base = high if inverted else low
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
            top = cyclr_value(low, high, inverted, span, False, head * HEAD_ROOM)
            if top == base:
                fill_constant(o + k, b, base)
                exact = False
            elif floating is float:
                if head * run.th[ENCLOSE_BLOCK - 1] >= NORMAL_FLOOR:
                    exact = gamma_enclose(o + k, b, head, run.th + j, w, span, low, high,
                                          inverted, POW_SLACK)
            elif POW_IS_TIGHT and head * run.th[ENCLOSE_BLOCK - 1] >= POW_TIGHT_FLOOR:
                if gamma_exact(o + k, b, head, run.head.lo, run.th + j, run.tl + j,
                               run.ths + j, run.thl + j, w, span, low, high, inverted):
                    # The NaN steps: pow decides
                    unsure = nan_positions(o + k, b, where)
                    for a in range(unsure):
                        at = where[a]
                        o[k + at] = cyclr_value(low, high, inverted, span * w[at], False,
                                                pow(gamma, <double>(i + k + at)))
                exact = False
        if exact:
            for a in range(b):
                o[k + a] = <floating>cyclr_value(low, high, inverted, span * w[a], False,
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

