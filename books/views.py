"""The ketua's upload of a book (issue 10): a dry run first (what would be created and every problem),
then a confirm step. The file waits in a private folder between the two, is validated again on confirm
and deleted afterwards. Under four eyes another approver confirms."""

import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from books import formats, template_book
from books.forms import ConfirmForm, UploadForm
from books.importer import validate
from books.recorder import ApplyError, apply
from institutions.access import decider_required

TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder():
    folder = Path(settings.MEDIA_ROOT) / "impor-sementara"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pending(lkmm):
    """The uploads of `lkmm` waiting for confirmation: [(token, uploader id, path)]; a path is a workbook
    (.xlsx) or a folder of the book's CSV files."""
    found = []
    for path in sorted(_folder().glob(f"{lkmm.pk}-*-*")):
        if path.suffix not in (".xlsx", ""):
            continue
        _lkmm, uploader, token = path.stem.split("-")
        found.append((token, int(uploader), path))
    return found


def _discard(path):
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _find(lkmm, token):
    if not TOKEN.match(token):
        raise Http404
    for found_token, uploader, path in _pending(lkmm):
        if found_token == token:
            return uploader, path
    raise Http404


def _may_confirm(user, lkmm, uploader):
    return not lkmm.four_eyes or user.pk != uploader


@decider_required
def upload(request):
    lkmm = request.user.staff.lkmm
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = uuid.uuid4().hex
        files = form.cleaned_data["book"]
        if files[0].name.lower().endswith(".xlsx"):
            targets = [(files[0], _folder() / f"{lkmm.pk}-{request.user.pk}-{token}.xlsx")]
        else:
            folder = _folder() / f"{lkmm.pk}-{request.user.pk}-{token}"
            folder.mkdir()
            # Only the file's own name, lower case: never a path from the browser.
            targets = [(one, folder / Path(one.name).name.lower()) for one in files]
        for upload_file, path in targets:
            with path.open("wb") as handle:
                for chunk in upload_file.chunks():
                    handle.write(chunk)
        return redirect("books:preview", token=token)
    pending = [
        {"token": token, "mine": uploader == request.user.pk} for token, uploader, _p in _pending(lkmm)
    ]
    return render(request, "books/upload.html", {"form": form, "pending": pending, "lkmm": lkmm})


@decider_required
def preview(request, token):
    lkmm = request.user.staff.lkmm
    uploader, path = _find(lkmm, token)
    plan = validate(formats.read_book(path), lkmm=lkmm)
    may_confirm = _may_confirm(request.user, lkmm, uploader)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and "cancel" in request.POST:
        _discard(path)
        messages.info(request, _("Impor dibatalkan; berkasnya sudah dihapus."))
        return redirect("books:upload")
    if request.method == "POST" and form.is_valid() and plan.ok and may_confirm:
        try:
            summary = apply(plan, actor=request.user)
        except ApplyError as exc:
            plan.problems.append(exc.problem)
        else:
            _discard(path)
            messages.success(
                request,
                _("Buku diimpor: %(m)d anggota, %(l)d pinjaman, %(r)d pembayaran.")
                % {"m": summary["members"], "l": summary["loans"], "r": summary["repayments"]},
            )
            return redirect("loans:list")
    return render(
        request,
        "books/preview.html",
        {
            "plan": plan,
            "summary": plan.summary(),
            "errors": plan.errors,
            "warnings": plan.warnings,
            "form": form,
            "token": token,
            "may_confirm": may_confirm,
            "four_eyes": lkmm.four_eyes,
        },
    )


@decider_required
def template(request):
    response = HttpResponse(
        template_book.workbook_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="templat-buku-lkmm.xlsx"'
    return response
