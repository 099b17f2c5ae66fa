"""Register several works at once: one work per file (``works.several``)."""

from http import HTTPStatus

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .. import services, several
from ..models import Work
from .progress import upload_redirects


class SeveralFilesInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class SeveralFilesField(forms.FileField):
    """Django's documented pattern for a field of several files: each is cleaned alone."""

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(SeveralFilesField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class SeveralFilesForm(forms.Form):
    files = SeveralFilesField(
        label="Files",
        required=False,  # files refused while streaming never reach the form: the view decides
        widget=SeveralFilesInput(attrs={"multiple": True}),
        help_text=(
            "Up to {cap} files: images, documents, audio or video. Each becomes a work titled "
            "after its file's name; you can change the title afterwards."
        ),
    )
    kind = forms.ChoiceField(
        label="Kind of work",
        required=False,
        choices=[("", "Work it out from each file")] + Work.Kind.choices,
        help_text="Photographs, sound recordings and videos are recognised; documents are “Other”.",
    )

    def __init__(self, *args, cap: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = self.fields["files"].help_text.format(cap=cap)


@login_required
@csrf_exempt
def works_create_several(request):
    """The streaming handler must be in place before anything reads ``request.POST``; CSRF is
    checked inside (as ``catalogue.upload_view`` does)."""
    handler = None
    if request.method == "POST":
        handler = several.SeveralFilesHandler(
            request,
            quota_left=services.quota_left(user=request.user),
            max_files=several.max_files(),
            user=request.user,
        )
        request.upload_handlers = [handler]
    return _several(request, handler)


@csrf_protect
@upload_redirects
def _several(request, handler):
    cap = several.max_files()
    form = SeveralFilesForm(request.POST or None, request.FILES or None, cap=cap)
    outcomes = None
    status = HTTPStatus.OK
    if handler is not None:
        uploads = request.FILES.getlist("files")
        if form.is_valid():
            if handler.too_many:
                form.add_error("files", several.TOO_MANY_FILES.format(cap=cap))
            elif not uploads and not handler.refused:
                form.add_error("files", several.NO_FILES)
            else:
                outcomes = several.works_register_files(
                    owner=request.user,
                    uploads=uploads,
                    refused=handler.refused,
                    kind=form.cleaned_data["kind"],
                )
        if outcomes is None or not any(outcome.work for outcome in outcomes):
            status = HTTPStatus.BAD_REQUEST
    return render(
        request,
        "works/several.html",
        {
            "form": form,
            "cap": cap,
            "created": [o for o in outcomes or () if o.work],
            "refused": [o for o in outcomes or () if not o.work],
            "posted": outcomes is not None,
        },
        status=status,
    )
