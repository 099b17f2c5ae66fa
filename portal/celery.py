import os
import signal
import threading
import time

from billiard.common import _shutdown_cleanup
from billiard.util import set_pdeathsig
from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _heartbeat_when_ready(**kwargs):
    """A worker that has just started is alive: say so without waiting a whole beat period.
    From then on beat's ``portal.tasks.heartbeat`` keeps the timestamp fresh."""
    from portal.health import heartbeat_write

    heartbeat_write()


# --- Pool processes and SIGTERM ------------------------------------------------------------------
# A process manager (or `make run`'s stop) sends SIGTERM to the whole process group, pool processes
# included. billiard answers it in a pool process by raising SystemExit wherever the process is.
# An idle one is waiting for work on the pool's shared task queue (the embedded filesystem broker
# uses billiard's plain pool, whose queue has one lock for all its processes): raised just after
# the lock was taken and before its ``with`` block began, SystemExit leaves the lock taken by a
# dead process, and at exit billiard takes that lock without a timeout: the worker's main process
# then waits forever, deaf to SIGTERM (reproduced about one stop in two). So a pool process ignores
# SIGTERM while it waits for work; the main process's warm shutdown ends it with the pool's
# sentinel. While it runs a task, billiard's handler stays: SIGTERM stops the task as before.

_in_pool_process = False


@worker_process_init.connect
def _ignore_sigterm_while_idle(**kwargs):
    global _in_pool_process
    _in_pool_process = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # billiard leaves an ignored signal ignored


@task_prerun.connect
def _sigterm_stops_a_running_task(**kwargs):
    if _in_pool_process:
        signal.signal(signal.SIGTERM, _shutdown_cleanup)


@task_postrun.connect
def _sigterm_ignored_again(**kwargs):
    if _in_pool_process:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


# --- Pool processes that outlive the thread that forked them -------------------------------------
# Celery asks Linux to SIGKILL each pool process when its parent dies (PR_SET_PDEATHSIG), but
# Linux sends that signal when the parent *thread* that forked it ends. On a transport without an
# event loop (the embedded filesystem broker) billiard's supervisor thread forks the process that
# replaces one that died (a hostile file's decoder crashed or ran out of memory, a time limit, a
# SIGTERM to the process group): when the pool closes at shutdown that thread ends, and the
# replacement is killed at once, in the middle of the task a warm shutdown should let it finish,
# or holding the task queue's lock (above).

# In a child: which process forked it, and whether from its main thread.
_forked_by: tuple[int, bool] = (0, True)


def _note_forking_thread() -> None:
    global _forked_by
    _forked_by = (os.getpid(), threading.current_thread() is threading.main_thread())


os.register_at_fork(before=_note_forking_thread)


@worker_process_init.connect
def _end_with_the_worker_not_with_a_thread(**kwargs):
    """In a pool process forked by a thread other than the main one, replace the parent-death
    signal with a watch of the process itself: it still ends with the worker, within a second,
    and only then."""
    parent, by_main_thread = _forked_by
    if by_main_thread:
        return
    try:
        set_pdeathsig(0)
    except OSError:  # not Linux: there was no parent-death signal either
        return

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
