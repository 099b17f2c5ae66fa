"""Catalogue imports: a CSV of works, or a ZIP of files with an optional metadata CSV, run by
the worker in batches with a progress bar and a per-row error report. See docs/imports.md.

Modules: ``csvfiles`` (what an upload may be, encodings, delimiters, the header, the
template), ``rows`` (one row checked), ``jobs`` (a job's life: creation, lease, counters, end,
sweep), ``csv_import`` and ``zip_import`` (the two engines) with ``zip_metadata`` (a ZIP's
metadata CSV) and ``zip_layout`` (a ZIP's structure, checked before anything is unpacked).
"""

import logging

from ..models import ImportJob
from .csvfiles import (
    CSV_COLUMNS,
    CSV_FILE,
    TEMPLATE_ROWS,
    ZIP_ARCHIVE,
    ImportFileError,
    accept_upload,
)
from .jobs import (
    MAX_ATTEMPTS,
    LeaseLost,
    claim,
    finish,
    job_create,
    job_for_owner,
    jobs_for_owner,
    jobs_sweep,
    report_rows,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CSV_COLUMNS",
    "CSV_FILE",
    "TEMPLATE_ROWS",
    "ZIP_ARCHIVE",
    "accept_upload",
    "job_create",
    "job_for_owner",
    "job_run",
    "jobs_for_owner",
    "jobs_sweep",
    "report_rows",
]

LOST = "The uploaded file was lost before it could be imported: please upload it again."
GAVE_UP = (
    "This import stopped several times before it could finish. The rows it had imported are "
    "kept; import the file again to finish it (nothing is duplicated)."
)


def job_run(*, job_id: int) -> ImportJob | None:
    """The worker's part: claim the job, run its engine, finish it. Safe to call again for the
    same job at any time (a redelivered message, the sweep): see ``jobs``."""
    from .csv_import import run_csv
    from .zip_import import run_zip

    token = claim(job_id)
    if token is None:
        return None  # finished, or another worker holds it
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    if token > MAX_ATTEMPTS:
        finish(job, token, error=GAVE_UP)
        return job
    engine = run_zip if job.kind == ImportJob.Kind.ZIP else run_csv
    try:
        engine(job, token)
    except ImportFileError as exc:
        finish(job, token, error=str(exc))
    except FileNotFoundError:
        finish(job, token, error=LOST)
    except LeaseLost:
        logger.info("Import job %s was taken over by another worker", job_id)
        return None
    else:
        finish(job, token)
    job.refresh_from_db()
    return job
