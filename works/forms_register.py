"""The "Register a work" form: the work's fields and file (``WorkCreateForm``), the file kept
from an earlier try (``works.pending``) and the answer to "this may already be in your
catalogue" (``works.duplicates``)."""

from django import forms
from django.core.exceptions import ValidationError

from .forms import WorkCreateForm
from .pending import pending_upload_for


class WorkRegisterForm(WorkCreateForm):
    kept_file = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # Drawn only in the box that names works of theirs this one may repeat.
    register_anyway = forms.BooleanField(
        label="Register anyway: this is another work, or I want it registered twice",
        required=False,
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.kept = None  # the PendingUpload the page names, once the form is cleaned

    @property
    def kept(self):
        return self._kept

    @kept.setter
    def kept(self, pending) -> None:
        self._kept = pending
        attrs = self.fields["file"].widget.attrs
        if pending is None:
            attrs.pop("aria-describedby", None)
        else:  # the file input names the kept file (works/form.html draws #id_file_kept)
            attrs["aria-describedby"] = "id_file_kept id_file_helptext"

    def clean(self):
        data = super().clean()
        token = (data.get("kept_file") or "").strip()
        if token:
            try:
                self.kept = pending_upload_for(owner=self.owner, token=token)
            except ValidationError as exc:
                if data.get("file") is None and "file" not in self.errors:
                    self.add_error("file", exc)  # no new choice: the kept file was the file
                self.show_kept(None)
        return data

    @property
    def sha256(self) -> str:
        """The SHA-256 of the file this try registers: the new one, or the kept one."""
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return getattr(upload, "sha256", "") or ""
        return self.kept.sha256 if self.kept else ""

    def show_kept(self, pending) -> None:
        """Name ``pending`` (or nothing) as the kept file when the form is shown again."""
        self.kept = pending
        data = self.data.copy()
        data["kept_file"] = pending.token if pending else ""
        self.data = data
