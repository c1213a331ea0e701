"""How ildl.nn uses the CPU's cores: OpenBLAS's threads for a dense network's products, its own
threads (each running BLAS on one thread) for a convolutional network's images.

Three measured facts drive it (2-core machine):

- NumPy's BLAS (OpenBLAS) splits one product among threads that spin while they wait for work.
  That is the fastest way to run a large product (64x784 @ 784x512: 195 us on its two threads,
  359 us on one), but the spinning threads take a core from anything else running meanwhile,
  and on a busy machine a product waits for a thread that waits for a core (the moons network
  was 2.8 times slower with the other core busy).
- NumPy releases the GIL inside its loops over large arrays, so Python threads each running the
  same NumPy code on their own images of a batch do run at once: a convolutional network's
  im2col copies and products, ReLU and pooling passes split by whole images across ildl's
  threads, with BLAS on one thread so that nothing spins.
- Handing work to a Python thread costs tens of microseconds (the same product split by ildl:
  320 us), so short passes stay whole.

So ``Sequential`` lets BLAS's threads run the products of a network without layers that split
images (``Layer.splits_images``: Conv2D, MaxPooling2D, AveragePooling2D) and keeps ildl's
threads idle there (``products_on_blas_threads``; products under SMALL_PRODUCT multiply-adds
stay on one thread); a network with such layers uses ildl's threads.

ildl's own splits change no number: a product's rows are the same dot products whichever thread
computes them (summed in the same order: the tests compare the bits), and ``split_batch`` hands
each thread whole images (rows), which go through exactly the operations they would go through
in one piece. (On BLAS's threads a product may round differently than on one, as NumPy's own
``@`` does.) ildl uses as many threads as NumPy's BLAS is set to (``OPENBLAS_NUM_THREADS``,
``threadpoolctl.threadpool_limits``), so one setting limits both.

>>> import numpy as np
>>> from ildl.nn import threads
>>> threads.matmul(np.ones((3, 2)), np.ones((2, 4)))   # a @ b, on one BLAS thread: it is small
array([[2., 2., 2., 2.],
       [2., 2., 2., 2.],
       [2., 2., 2., 2.]])
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

# A product of fewer multiply-adds than this (m * k * n) always runs on one BLAS thread: the
# moons network's (2.25 M at most) took as long on OpenBLAS's two threads on an idle 2-core
# machine, and 2.8 times as long with the other core busy; the MLP's 8.4 M products gained
# (114 us on one thread, 80 us on two).
SMALL_PRODUCT = 4_000_000
# Outside ``products_on_blas_threads``, a product of at least this many multiply-adds is split by
# rows across ildl's threads, a smaller one runs on one BLAS thread. Split in two, products of
# 25 M multiply-adds or less (the CNN's dense layer and first kernel gradient) were slower than
# on one thread (64x784 @ 784x512: 320-552 us split, 359-377 us on one thread); the CNN's second
# kernel gradient (231 M) gained (2.2 ms against 3.5).
SPLIT_PRODUCT = 100_000_000
# A pass over fewer values than this runs on the calling thread alone (handing work to another
# thread costs ~20 us; a pass over 200 000 float32 values takes ~50-100 us).
MIN_SPLIT_VALUES = 200_000
PARTS_PER_THREAD = 2

# True inside ``products_on_blas_threads``. The mode is per thread, but the BLAS thread count
# that ``one_blas_thread`` switches is the whole process's: while two models train in two
# threads at once, a product of one may run on one BLAS thread or on several depending on
# timing (slower or faster, and for some shapes rounded differently).
_products_on_blas = contextvars.ContextVar("ildl_products_on_blas", default=False)
_blas = None  # (get, set) of NumPy's BLAS thread count, found on first use (False: none)
_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def _numpy_blas():
    """``(get_threads, set_threads)`` for the BLAS NumPy uses, or None if it cannot be told."""
    global _blas
    if _blas is None:
        controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        # torch, scipy... may load BLAS libraries of their own; NumPy's sits in numpy's folder.
        numpy_folder = os.path.dirname(os.path.dirname(np.__file__))
        own = [lib for lib in controllers if lib.filepath.startswith(numpy_folder)
               and "numpy" in lib.filepath] or (controllers if len(controllers) == 1 else [])
        _blas = _thread_functions(own[0]) if own else False
    return _blas or None


def _thread_functions(lib):
    """OpenBLAS's own C functions when it runs its own threads (NumPy's wheels: a call costs
    ~0.2 us, ten times less than through threadpoolctl), else threadpoolctl's methods."""
    if lib.internal_api == "openblas" and getattr(lib, "threading_layer", "") == "pthreads":
        for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
            get = getattr(lib.dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return lib.get_num_threads, lib.set_num_threads


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses now (1 if it cannot be asked)."""
    blas = _numpy_blas()
    return (blas[0]() or 1) if blas is not None else 1


class one_blas_thread:
    """``with one_blas_thread():`` runs the products inside on a single BLAS thread."""

    def __enter__(self):
        self.blas = _numpy_blas()
        self.threads = blas_threads()
        if self.threads > 1:
            self.blas[1](1)
        return self

    def __exit__(self, *exc):
        if self.threads > 1:
            self.blas[1](self.threads)


@contextlib.contextmanager
def products_on_blas_threads(enabled: bool = True):
    """``with products_on_blas_threads():`` products of at least SMALL_PRODUCT multiply-adds run
    on BLAS's own threads, and ``split_batch`` keeps every pass on the calling thread.

    For networks of dense layers: their time is in products, which OpenBLAS splits among its
    threads faster than Python threads can hand them work. ildl's threads stay idle because
    OpenBLAS's threads keep spinning for a while after each product, and would take a core from
    them (a CNN lost a third of its speed so). ``enabled=False`` keeps the default.
    """
    token = _products_on_blas.set(enabled)
    try:
        yield
    finally:
        _products_on_blas.reset(token)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for 2-D (m, k) @ (k, n), written into ``out`` if given.

    A small product (m * k * n < SMALL_PRODUCT) runs on one BLAS thread. Inside
    ``products_on_blas_threads`` a larger one runs on BLAS's threads. Otherwise a product of at
    least SPLIT_PRODUCT is split by rows of the output, ``out[rows] = a[rows] @ b``, across
    ildl's threads, each on one BLAS thread: each entry is the same dot product, summed in the
    same order (the tests check the bits against one product), and the threads wait for each
    other without spinning, which keeps a busy machine from stalling the product; the rest runs
    on one BLAS thread.
    """
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    size = a.shape[0] * a.shape[1] * b.shape[1]
    if a.shape[1] == 1:  # an outer product (the gradient through a 1-unit layer): one multiply
        return np.multiply(a, b, out=out)  # per entry, ~10x faster than matmul's path for it
    if size >= SMALL_PRODUCT and _products_on_blas.get():
        return np.matmul(a, b, out=out)  # on as many threads as BLAS is set to
    if size < SPLIT_PRODUCT:
        with one_blas_thread():
            return np.matmul(a, b, out=out)
    # One part per thread: parts stay large, where OpenBLAS sums every entry in the same order
    # whatever the number of rows (its kernels for tiny matrices may not).
    split_batch(lambda rows: np.matmul(a[rows], b, out=out[rows]), a.shape[0], size,
                parts_per_thread=1)
    return out


def batch_parts(rows: int, parts: int) -> list[slice]:
    """``range(rows)`` cut into ``parts`` contiguous slices of nearly equal length (none empty)."""
    parts = max(1, min(parts, rows))
    bounds = [rows * part // parts for part in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    """The pool of helper threads, made on first use (its threads end with the interpreter)."""
    global _pool, _pool_workers
    with _pool_lock:  # two models trained in two threads make one pool
        if _pool is None or _pool_workers < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its queued work still runs; then its threads end
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ildl.nn")
            _pool_workers = workers
        return _pool


def _forget_the_pool() -> None:
    """In a forked child: the parent's threads (and whoever held the lock) do not exist there."""
    global _pool, _pool_workers, _pool_lock
    _pool, _pool_workers, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_the_pool)


def split_batch(function: Callable[[slice], object], rows: int, values: int,
                parts_per_thread: int = PARTS_PER_THREAD) -> None:
    """Call ``function(part)`` for slices ``part`` of ``range(rows)`` that together cover it.

    With ``values`` (the size of the pass) of at least MIN_SPLIT_VALUES and BLAS set to several
    threads, the slices run on that many threads at once (products inside on one BLAS thread
    each); otherwise, or inside ``products_on_blas_threads``, ``function(slice(0, rows))`` runs
    here. ``function`` must write each row's result from that row's inputs only, so the split
    cannot change it.
    """
    threads = 1 if rows < 2 or values < MIN_SPLIT_VALUES or _products_on_blas.get() \
        else blas_threads()
    if threads < 2:
        function(slice(0, rows))
        return
    # Several parts per thread, taken from a queue by whichever thread is free: on a busy
    # machine a thread that gets less of a core leaves its remaining parts to the others.
    parts = queue.SimpleQueue()
    for part in batch_parts(rows, threads * parts_per_thread):
        parts.put(part)

    def take_parts() -> None:
        while True:
            try:
                part = parts.get_nowait()
            except queue.Empty:
                return
            function(part)

    with one_blas_thread():
        helpers = [_thread_pool(threads - 1).submit(take_parts) for _ in range(threads - 1)]
        try:
            take_parts()  # this thread works too
        finally:
            for helper in helpers:
                helper.result()  # waits for every part; re-raises a part's exception
