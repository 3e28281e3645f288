"""Threads released at the same moment, each with its own database connection."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def run_at_once(target: Callable[[Any], object], arguments: Sequence[Any]) -> list[BaseException]:
    """Call target(argument) in one thread per argument, all released together by a barrier;
    returns what they raised (a thread would swallow it otherwise)."""
    barrier = threading.Barrier(len(arguments))
    errors: list[BaseException] = []

    def run(argument: Any) -> None:
        try:
            barrier.wait()
            target(argument)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
