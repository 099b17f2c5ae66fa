"""The folder storage every test runs on (tests/conftest.py): the portal's own ``FolderStorage``,
except that it will not tell anyone outside Django's storage class where a stored file is on
disk. Code that opened a stored file by its filesystem path (``field_file.path``,
``storage.path(name)``) would work on a folder and fail on a bucket; here it fails in every
test that reaches it."""

import sys

from django.core.files.storage import filesystem

from accounts.storage import FolderStorage


class PathlessFolderStorage(FolderStorage):
    def path(self, name):
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller != filesystem.__name__:
            raise NotImplementedError(
                f"{caller} asked for the filesystem path of the stored file {name!r}: read it "
                "through accounts.storage (opened/seekable) — a bucket has no paths."
            )
        return super().path(name)
