"""Hooks for the process that answers: load the model at start, not on the first ticket."""

import logging
import time

from .engine import ModelSpec

log = logging.getLogger(__name__)


def warm_up(spec: ModelSpec, threads: int | None = None) -> float:
    """Set torch's thread count and load the spec's base and adapter; seconds it took.

    Call it in the worker process after any fork (never in the web process): the loaded
    model stays in this process's cache, shared by every engine instance.
    """
    from .loading import configure_threads, load_spec

    started = time.perf_counter()
    count = configure_threads(threads)
    load_spec(spec)
    elapsed = time.perf_counter() - started
    log.info("Warmed up %s with %d torch threads in %.1f s", spec.base_model_path, count, elapsed)
    return elapsed
