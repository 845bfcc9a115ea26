"""`exchange grant`: request, decide on, revoke and list grants on a running hub."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import click

from exchange.cli.remote import call, client_for, echo_json, hub_options
from exchange.policy.grants import GRANT_STATUSES


@click.group(help="Grants: which department may receive which subject, and how.")
def grant() -> None:
    """The `grant` command group."""


@grant.command("request", help="Ask for a grant to receive SUBJECT (departments).")
@click.argument("subject")
@click.option("--purpose", required=True, help="What the data is needed for (audited).")
@click.option(
    "--field",
    "field_pointers",
    multiple=True,
    help="JSON Pointer of a granted property; repeat it. Default: the whole payload.",
)
@click.option("--expires-at", help="RFC 3339 instant the grant ends, e.g. 2025-12-31T00:00:00Z.")
@hub_options
def grant_request(  # noqa: PLR0917  (one parameter per command-line option)
    subject: str,
    purpose: str,
    field_pointers: tuple[str, ...],
    expires_at: str | None,
    url: str,
    key_file: str,
) -> None:
    """POST /v1/grants."""
    body: dict[str, Any] = {"subject": subject, "purpose": purpose}
    if field_pointers:
        body["fields"] = list(field_pointers)
    if expires_at is not None:
        body["expires_at"] = _rfc3339(expires_at)
    client = client_for(url, key_file)
    echo_json(call(partial(client.post, "/v1/grants", json=body)))


@grant.command("approve", help="Approve pending grant ID (its subject's owner, or admins).")
@click.argument("grant_id")
@hub_options
def grant_approve(grant_id: str, url: str, key_file: str) -> None:
    """POST /v1/grants/ID/approve."""
    client = client_for(url, key_file)
    echo_json(call(partial(client.post, f"/v1/grants/{grant_id}/approve")))


@grant.command("reject", help="Reject pending grant ID (its subject's owner, or admins).")
@click.argument("grant_id")
@hub_options
def grant_reject(grant_id: str, url: str, key_file: str) -> None:
    """POST /v1/grants/ID/reject."""
    client = client_for(url, key_file)
    echo_json(call(partial(client.post, f"/v1/grants/{grant_id}/reject")))


@grant.command("revoke", help="Revoke grant ID, effective at once (owner, consumer, admins).")
@click.argument("grant_id")
@hub_options
def grant_revoke(grant_id: str, url: str, key_file: str) -> None:
    """DELETE /v1/grants/ID."""
    client = client_for(url, key_file)
    echo_json(call(partial(client.delete, f"/v1/grants/{grant_id}")))


@grant.command("list", help="List the grants you may see, following every page.")
@click.option("--subject", help="Only grants on this subject.")
@click.option("--status", type=click.Choice(GRANT_STATUSES), help="Only grants in this status.")
@hub_options
def grant_list(subject: str | None, status: str | None, url: str, key_file: str) -> None:
    """GET /v1/grants, all pages."""
    client = client_for(url, key_file)
    filters = {name: value for name, value in (("subject", subject), ("status", status)) if value}
    cursor: str | None = None
    while True:
        params = filters | ({"after": cursor} if cursor else {})
        page = call(partial(client.get, "/v1/grants", params=params))
        for item in page["grants"]:
            click.echo(_line(item))
        cursor = page["next_cursor"]
        if not cursor:
            break


def _line(item: dict[str, Any]) -> str:
    expiry = item["expires_at"] or "no expiry"
    return (
        f"{item['id']}  {item['status']:<9} {item['subject']:<40} -> {item['consumer']:<24} "
        f"{expiry}"
    )


def _rfc3339(text: str) -> str:
    """Refuse, before calling the hub, an instant the hub would refuse for want of a zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 instant") from error
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone offset, e.g. 2025-12-31T00:00:00Z")
    return moment.isoformat()
