"""The dashboard server process's own set-up (revintel.ui.server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_sigusr1_prints_every_threads_stack_and_the_process_goes_on() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading, time
        from revintel.ui.server import dump_stacks_on_sigusr1

        def waiting_for_something():
            release.wait()

        release = threading.Event()
        worker = threading.Thread(target=waiting_for_something, name="a-stuck-thread")
        worker.start()
        dump_stacks_on_sigusr1()
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.2)
        release.set()
        worker.join()
        print("still running")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "still running"
    assert "Current thread" in done.stderr  # the main thread, which received the signal
    assert "waiting_for_something" in done.stderr  # and the other thread, where it waits
