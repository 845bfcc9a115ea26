"""The RFC 9421 signature base of an HTTP request (section 2.5): the bytes that get signed.

Component values come from `http-message-signatures`' component resolver (derived
components such as `@target-uri` and `@authority`, header lookup and normalisation)
and structured fields from `http_sf`. The library's own signer and verifier are not
used: the hub needs a distinct error per refusal, checks in a fixed cheap-first order
and its own clock, which the library's all-in-one `verify()` cannot give. Assembling
the base from resolved values is the few lines below.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from http_message_signatures import HTTPMessageSignaturesException, HTTPSignatureComponentResolver
from http_sf.compat import Item
from http_sf.item import ser_item
from http_sf.parameters import ser_params
from http_sf.types import BareItemType, ParamsType

SIGNATURE_PARAMS = '"@signature-params"'


@dataclass(frozen=True)
class HttpRequestParts:
    """The parts of an HTTP request that a signature can cover.

    `headers` may use any letter case: lookups ignore it. `target_uri` is the
    absolute URL the client sent, query string included.
    """

    method: str
    target_uri: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Component:
    """One covered component identifier: a name and its RFC 9421 parameters (`sf`, `key`...)."""

    name: str
    parameters: tuple[tuple[str, BareItemType], ...] = ()

    def serialized(self) -> str:
        """The identifier as it appears in the signature base, e.g. `"content-digest";sf`."""
        return _serialized_component(self)


# Every request covers the same few components: serialise each once, not once a request.
_CACHED_COMPONENTS = 256
_CACHED_PARAMETERS = 1024


@functools.lru_cache(maxsize=_CACHED_COMPONENTS)
def _serialized_component(component: Component) -> str:
    return ser_item((component.name, dict(component.parameters)))


# Likewise a client's `keyid`, `alg` and `tag` (and, for a second, `created`); only the
# nonce is new each time. The type is in the key: `True == 1`, but `;x` is not `;x=1`.
@functools.lru_cache(maxsize=_CACHED_PARAMETERS)
def _serialized_parameter(name: str, kind: str, value: BareItemType) -> str:
    parameter: ParamsType = {name: value}
    return ser_params(parameter)


@dataclass(frozen=True)
class SignatureInput:
    """The covered components and the parameters of one signature (one `Signature-Input` member)."""

    components: tuple[Component, ...]
    parameters: Mapping[str, BareItemType]

    def serialized(self) -> str:
        """The inner list as it appears in `Signature-Input` and as `@signature-params`
        (RFC 8941 section 4.1.1.1, as `http_sf.ser_innerlist` writes it)."""
        items = " ".join(component.serialized() for component in self.components)
        params = "".join(
            _serialized_parameter(name, type(value).__qualname__, value)
            for name, value in self.parameters.items()
        )
        return f"({items}){params}"


class UnresolvableComponentError(Exception):
    """A covered component cannot be taken from the request (absent header, bad URL...)."""


def signature_base(request: HttpRequestParts, signature_input: SignatureInput) -> bytes:
    """Build the signature base: one `"name": value` line per component, then the params line."""
    resolver = _resolver_for(request)
    lines: list[str] = []
    for component in signature_input.components:
        value = _resolve(resolver, component)
        lines.append(f"{component.serialized()}: {value}")
    lines.append(f"{SIGNATURE_PARAMS}: {signature_input.serialized()}")
    base = "\n".join(lines)
    if not base.isascii():
        raise UnresolvableComponentError("the signature base contains non-ASCII characters")
    return base.encode("ascii")


class _ResolvableRequest:
    """The message shape `HTTPSignatureComponentResolver` reads."""

    def __init__(self, request: HttpRequestParts) -> None:
        self.method = request.method
        self.url = request.target_uri
        self.headers = dict(request.headers)


def _resolver_for(request: HttpRequestParts) -> HTTPSignatureComponentResolver:
    try:
        # The library leaves its constructor unannotated.
        return HTTPSignatureComponentResolver(_ResolvableRequest(request))  # type: ignore[no-untyped-call]
    except HTTPMessageSignaturesException as error:
        raise UnresolvableComponentError(str(error)) from error


def _resolve(resolver: HTTPSignatureComponentResolver, component: Component) -> str:
    if component.name != component.name.lower():
        raise UnresolvableComponentError(f"component name {component.name!r} is not lowercase")
    node = Item(component.name)
    node.params.update(dict(component.parameters))
    try:
        value: Any = resolver.resolve(node)
    except HTTPMessageSignaturesException as error:
        raise UnresolvableComponentError(str(error)) from error
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        # A newline in a value would let one line of the base pose as another.
        raise UnresolvableComponentError(
            f"component {component.serialized()} has no single-line value"
        )
    return value
