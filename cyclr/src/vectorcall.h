/* Vectorcall (PEP 590) for Kernel.__call__: ``s(i)`` then skips the argument tuple that
   tp_call builds, which is most of a scalar call's cost. Each instance holds the function
   pointer, as the protocol asks; types without the flag fall back to tp_call. */
#ifndef CYCLR_VECTORCALL_H
#define CYCLR_VECTORCALL_H
#include <Python.h>

static int cyclr_set_vectorcall(PyTypeObject *type, Py_ssize_t offset) {
#if defined(Py_TPFLAGS_HAVE_VECTORCALL) && !defined(PYPY_VERSION) && !defined(Py_LIMITED_API)
    type->tp_vectorcall_offset = offset;
    type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    return 1;
#else
    return 0;
#endif
}

#endif
