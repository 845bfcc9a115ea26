"""Rotating the hub's own signing key: a new key becomes current, the old one is retired but
stays published in `GET /v1/hub/keys`, so everything it signed (deliveries, envelopes,
audit checkpoints) still verifies."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from exchange.identity.keys import (
    generate_private_key,
    key_id_of,
    load_private_key,
    raw_public_key_b64,
    write_private_key,
)
from exchange.store.repositories import HubKeyRepository


@dataclass(frozen=True)
class HubKeyRotation:
    """The key retired and the key that replaced it."""

    retired_key_id: str
    current_key_id: str


def rotate_hub_key(key_file: Path, hub_keys: HubKeyRepository, now: datetime) -> HubKeyRotation:
    """Replace the private key in `key_file` by a new one, recorded as current in the store,
    and retire the old one from `now` on.

    The new key is published before the file changes hands, so a hub that restarts at any
    moment signs with a key verifiers can find; the old private key is not kept.
    """
    old_key_id = key_id_of(load_private_key(key_file).public_key())
    new_key = generate_private_key()
    new_key_id = key_id_of(new_key.public_key())
    staged = key_file.with_name(key_file.name + ".new")
    write_private_key(staged, new_key)
    hub_keys.add(new_key_id, raw_public_key_b64(new_key.public_key()))
    hub_keys.retire(old_key_id, now)
    os.replace(staged, key_file)
    return HubKeyRotation(retired_key_id=old_key_id, current_key_id=new_key_id)
