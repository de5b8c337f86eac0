"""Arrays kept from one month to the next, reused only when nothing else holds them.

At a million firms a month's temporaries are tens of megabytes each. A fresh array of that size
is new memory from the operating system: the month pays a page fault, and the zeroing of a page,
for every 4 KB it writes. :class:`KeptArrays` hands out arrays by name and shape and takes back,
the next time the same name is asked for, an array that nothing outside it refers to any more:
no other array viewing it (a view, a slice or a transpose holds a reference to the array that
owns the memory), no object keeping it. An array still held is never written again; the caller
gets a new one instead. So a reused array can never change under anyone who can still see it.

The test is the array's reference count (CPython's): the number of references while only the
keeper holds it is measured once, by the same code, on an array of its own
(:data:`_UNHELD`).
"""

from __future__ import annotations

from sys import getrefcount
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Arrays kept per name: this month's and last month's (still read while this month's is made).
KEEP = 2


def _references(arrays: list[FloatArray]) -> int:
    """Return the reference count of the first of ``arrays``, as :meth:`KeptArrays.empty` sees it.

    The same loop and the same call as there, so that the counts compare.
    """
    for array in arrays:
        return getrefcount(array)
    return 0


#: The count :meth:`KeptArrays.empty` sees for an array that only its list refers to.
_UNHELD = _references([np.empty(0)])


class KeptArrays:
    """Float arrays by name, handed out again once nothing but this keeper refers to them.

    A keeper belongs to one model (its firms): copies and pickles of it start empty, so that no
    two models share an array.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, list[FloatArray]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> KeptArrays:
        return KeptArrays()

    def __reduce__(self) -> tuple[type[KeptArrays], tuple[()]]:
        return KeptArrays, ()

    def empty(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        """Return a float64 array of ``shape`` (C order, contents undefined) for ``name``.

        It is a kept array of that name and shape that nothing else refers to, or else a new
        one, kept (in place of one of another shape) while fewer than :data:`KEEP` are.
        """
        kept = self._arrays.get(name)
        if kept is None:
            kept = self._arrays[name] = []
        # The loop of _references: the count is _UNHELD when only ``kept`` refers to the array.
        for array in kept:
            if getrefcount(array) == _UNHELD and array.shape == shape:
                return array
        array = np.empty(shape)
        kept[:] = [a for a in kept if a.shape == shape][: KEEP - 1] + [array]
        return array
