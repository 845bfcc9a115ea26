"""The hub rebuilds the exact URL a client signed from what the WSGI server received."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from exchange.identity.target_uri import wsgi_target_uri


def environ_of(path: str, query: str = "", base_url: str = "http://127.0.0.1:8080"):
    return EnvironBuilder(path=path, query_string=query, base_url=base_url).get_environ()


def test_percent_encoding_in_path_and_query_is_kept_as_sent():
    environ = environ_of("/v1/items/r%C3%A9f%20A%2B1", "q=%C3%BC%26x")
    assert (
        wsgi_target_uri(environ) == "http://127.0.0.1:8080/v1/items/r%C3%A9f%20A%2B1?q=%C3%BC%26x"
    )


def test_werkzeug_request_url_is_an_iri_and_would_not_match():
    # Why this module exists: the framework's URL decodes what the client signed encoded.
    environ = environ_of("/v1/items", "q=%C3%BC")
    assert Request(environ).url != wsgi_target_uri(environ)


def test_gunicorn_style_raw_uri_with_query_is_used_for_the_path():
    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "hub.internal:8000",
        "RAW_URI": "/v1/subjects/a%2Fb/records?limit=5",
        "PATH_INFO": "/v1/subjects/a/b/records",
        "QUERY_STRING": "limit=5",
    }
    assert wsgi_target_uri(environ) == "http://hub.internal:8000/v1/subjects/a%2Fb/records?limit=5"


def test_absolute_form_raw_uri_keeps_only_its_path():
    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "hub.internal",
        "RAW_URI": "http://hub.internal/v1/health?x=1",
        "QUERY_STRING": "x=1",
    }
    assert wsgi_target_uri(environ) == "http://hub.internal/v1/health?x=1"


def test_public_url_replaces_scheme_and_host_seen_behind_a_proxy():
    environ = environ_of("/v1/departments", "limit=2", base_url="http://10.0.0.7:8080")
    assert (
        wsgi_target_uri(environ, public_url="https://hub.example.gov/")
        == "https://hub.example.gov/v1/departments?limit=2"
    )


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({"SERVER_NAME": "hub", "SERVER_PORT": "80"}, "http://hub/v1/x"),
        ({"SERVER_NAME": "hub", "SERVER_PORT": "8080"}, "http://hub:8080/v1/x"),
    ],
)
def test_without_host_header_or_raw_uri_the_pep3333_recipe_applies(server, expected):
    environ = {"wsgi.url_scheme": "http", "SCRIPT_NAME": "", "PATH_INFO": "/v1/x", **server}
    assert wsgi_target_uri(environ) == expected


def test_without_raw_uri_the_decoded_path_is_quoted_back():
    environ = {
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "hub.example.gov",
        "SCRIPT_NAME": "/exchange",
        "PATH_INFO": "/v1/r\u00c3\u00a9f a",  # the bytes of "réf a" as PEP 3333 latin-1 text
        "QUERY_STRING": "",
    }
    assert wsgi_target_uri(environ) == "https://hub.example.gov/exchange/v1/r%C3%A9f%20a"
