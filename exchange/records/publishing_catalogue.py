"""The registry, as publishing sees it."""

from __future__ import annotations

from exchange.hub import Hub
from exchange.records.publish import PayloadValidator, PublishingTerms
from exchange.registry.catalogue import Catalogue, catalogue_for


class RegistryPublishingCatalogue:
    """Adapts the registry's `Catalogue` to `PublishingCatalogue`."""

    def __init__(self, hub: Hub) -> None:
        self._catalogue: Catalogue = catalogue_for(hub)

    def terms_for(self, subject: str, version: int | None) -> PublishingTerms:
        """Owner, key field and publishable version from one store read (never cached, so
        a deprecation counts at once on every hub); raises `UnknownSubject` (404)."""
        target = self._catalogue.publish_target(subject, version)
        return PublishingTerms(
            owner=target.owner,
            key_field=target.key_field or None,
            version=target.version,
            version_refused=target.refusal,
        )

    def validator_for(self, subject: str, version: int) -> PayloadValidator:
        """The cached compiled validator of that version."""
        return self._catalogue.validator_for(subject, version)
