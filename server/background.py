"""A worker thread that runs beside the app: started and stopped with it, woken early on demand."""

import threading


class Background:
    """Subclasses give `_run` (looping until `_stop` is set, waiting on `_wake` between rounds), the
    thread's name, and how long a stop may wait for a round in progress."""

    thread_name = "posaid-background"

    def __init__(self, stop_wait: float):
        self._stop_wait = stop_wait
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something arrived: run a round now rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self._stop_wait)

    def _run(self) -> None:
        raise NotImplementedError
