"""`exchange schema register|list|check`: the schema registry from the command line."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import click

from exchange.cli.remote import call, client_for, echo_json, hub_options

SENSITIVITIES = ("public", "internal", "confidential", "secret")
COMPATIBILITY_LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)


def read_schema(path: str) -> Any:
    """The JSON document in the file at `path`, or a CLI error saying why it is unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"cannot read a JSON schema from {path}: {error}") from error


@click.group(help="Subjects and their JSON Schema versions (the schema registry).")
def schema() -> None:
    """The `schema` command group."""


@schema.command("register", help="Register a subject with FILE as its first schema version.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--subject", required=True, help="Subject name, `<owner>.<name>`.")
@click.option("--owner", help="Owning department code (default: the subject's first part).")
@click.option("--title", help="Catalogue title (default: the schema's `title`).")
@click.option("--description", help="Catalogue description (default: the schema's).")
@click.option("--sensitivity", type=click.Choice(SENSITIVITIES), help="Default: internal.")
@click.option("--key-field", help="Property (dotted path) whose value keys each record.")
@click.option("--compatibility", type=click.Choice(COMPATIBILITY_LEVELS), help="Default: BACKWARD.")
@click.option("--retention-days", type=click.IntRange(min=1), help="How long records are kept.")
@hub_options
def schema_register(  # noqa: PLR0917  (one parameter per command-line option)
    file: str,
    subject: str,
    owner: str | None,
    title: str | None,
    description: str | None,
    sensitivity: str | None,
    key_field: str | None,
    compatibility: str | None,
    retention_days: int | None,
    url: str,
    key_file: str,
) -> None:
    """POST /v1/subjects."""
    options = {
        "title": title,
        "description": description,
        "sensitivity": sensitivity,
        "key_field": key_field,
        "compatibility": compatibility,
        "retention_days": retention_days,
    }
    body = {
        "subject": subject,
        "owner": owner or subject.split(".", maxsplit=1)[0],
        "schema": read_schema(file),
    } | {name: value for name, value in options.items() if value is not None}
    client = client_for(url, key_file)
    echo_json(call(partial(client.post, "/v1/subjects", json=body)))


@schema.command("list", help="List the catalogue's subjects, following every page.")
@click.option("--owner", help="Only subjects of this department.")
@click.option("--sensitivity", type=click.Choice(SENSITIVITIES), help="Only this sensitivity.")
@click.option("--q", "text", help="Text searched in subject, title and description.")
@hub_options
def schema_list(
    owner: str | None, sensitivity: str | None, text: str | None, url: str, key_file: str
) -> None:
    """GET /v1/subjects, all pages."""
    client = client_for(url, key_file)
    filters = {"owner": owner, "sensitivity": sensitivity, "q": text}
    params: dict[str, str] = {name: value for name, value in filters.items() if value}
    while True:
        page = call(partial(client.get, "/v1/subjects", params=params))
        for item in page["subjects"]:
            click.echo(f"{item['subject']:<48} {item['sensitivity']:<12} {item['title']}")
        if not page["next_cursor"]:
            break
        params["after"] = page["next_cursor"]


@schema.command("check", help="Check FILE as a subject's next version (changes nothing).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--subject", required=True, help="Subject name, `<owner>.<name>`.")
@hub_options
def schema_check(file: str, subject: str, url: str, key_file: str) -> None:
    """POST /v1/subjects/{subject}/compatibility; exits 1 when incompatible."""
    client = client_for(url, key_file)
    verdict = call(
        partial(
            client.post, f"/v1/subjects/{subject}/compatibility", json={"schema": read_schema(file)}
        )
    )
    if verdict["compatible"]:
        click.echo("compatible")
        return
    for message in verdict["messages"]:
        click.echo(f"incompatible: {message}")
    raise click.exceptions.Exit(1)
