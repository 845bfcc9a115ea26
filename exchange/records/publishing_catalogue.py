"""The registry, as publishing sees it."""

from __future__ import annotations

from exchange.hub import Hub
from exchange.records.publish import PayloadValidator
from exchange.registry.catalogue import Catalogue, catalogue_for


class RegistryPublishingCatalogue:
    """Adapts the registry's `Catalogue` to `PublishingCatalogue`."""

    def __init__(self, hub: Hub) -> None:
        self._catalogue: Catalogue = catalogue_for(hub)

    def owner_of(self, subject: str) -> str:
        """The owning department; raises `UnknownSubject` (404)."""
        return self._catalogue.subject(subject).owner

    def key_field_of(self, subject: str) -> str | None:
        """The payload property holding the record key."""
        return self._catalogue.subject(subject).key_field or None

    def publishable_version(self, subject: str, version: int | None) -> int:
        """The version to validate against; refuses deprecated and unknown versions."""
        return self._catalogue.ensure_publishable(subject, version).version

    def validator_for(self, subject: str, version: int) -> PayloadValidator:
        """The cached compiled validator of that version."""
        return self._catalogue.validator_for(subject, version)
