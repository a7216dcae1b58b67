"""Pages go compressed to browsers that accept it (phones on weak connections), and plain to others."""

import gzip

import pytest

from tests.factories import login

pytestmark = pytest.mark.django_db


def test_a_page_is_sent_gzipped_when_the_browser_accepts_it(client, pengelola):
    login(client, pengelola)
    plain = client.get("/")
    packed = client.get("/", headers={"accept-encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert not plain.has_header("Content-Encoding")
    assert packed["Content-Encoding"] == "gzip"
    html = gzip.decompress(packed.content).decode()
    assert "</html>" in html and len(packed.content) < len(html) / 3
