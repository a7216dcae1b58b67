"""The collection sheet (lembar tagihan). Being written by the collection-sheet work; see loans/collection.py."""

from django.http import Http404


def collection_sheet(request):
    raise Http404


def collection_group(request, group_pk):
    raise Http404
