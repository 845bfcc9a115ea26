"""`exchange schema register|list|check`: the schema registry from the command line."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import click

from exchange.cli.remote import call, client_for, echo_json, hub_options
from exchange.client import ClientNotFound, ExchangeClient

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


@schema.command(
    "register",
    help="Register FILE as a schema of a subject: a new subject with FILE as version 1, or, "
    "when the subject exists, FILE as its next version (its options must then match the "
    "subject's). Prints which happened, then the hub's answer.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--subject", required=True, help="Subject name, `<owner>.<name>`.")
@click.option("--owner", help="Owning department code (default: the subject's first part).")
@click.option(
    "--key-field",
    required=True,
    help="Property whose value keys each record (dotted path for a nested one, e.g. "
    "`insured_person.citizen_id`); the schema must declare it and require it.",
)
@click.option("--title", help="Catalogue title (default: the schema's `title`).")
@click.option("--description", help="Catalogue description (default: the schema's).")
@click.option("--sensitivity", type=click.Choice(SENSITIVITIES), help="Default: internal.")
@click.option("--compatibility", type=click.Choice(COMPATIBILITY_LEVELS), help="Default: BACKWARD.")
@click.option("--retention-days", type=click.IntRange(min=1), help="How long records are kept.")
@hub_options
def schema_register(  # noqa: PLR0917  (one parameter per command-line option)
    file: str,
    subject: str,
    owner: str | None,
    key_field: str,
    title: str | None,
    description: str | None,
    sensitivity: str | None,
    compatibility: str | None,
    retention_days: int | None,
    url: str,
    key_file: str,
) -> None:
    """POST /v1/subjects, or POST /v1/subjects/{subject}/versions when it exists."""
    given = {
        "owner": owner or subject.split(".", maxsplit=1)[0],
        "key_field": key_field,
        "title": title,
        "description": description,
        "sensitivity": sensitivity,
        "compatibility": compatibility,
        "retention_days": retention_days,
    }
    metadata = {name: value for name, value in given.items() if value is not None}
    document = read_schema(file)
    client = client_for(url, key_file)
    existing = _existing_subject(client, subject)
    if existing is None:
        answer = call(
            partial(
                client.post,
                "/v1/subjects",
                json={"subject": subject, "schema": document} | metadata,
            )
        )
        click.echo(f"registered subject {subject}: version {answer['version']}", err=True)
    else:
        _require_same_metadata(existing, metadata)
        answer = _register_version(client, subject, document, file)
    echo_json(answer)


def _existing_subject(client: ExchangeClient, subject: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = call(partial(_subject_or_none, client, subject))
    return found


def _subject_or_none(client: ExchangeClient, subject: str) -> Any:
    try:
        return client.get(f"/v1/subjects/{subject}")
    except ClientNotFound:
        return None


def _require_same_metadata(existing: dict[str, Any], metadata: dict[str, Any]) -> None:
    # A new version never changes a subject's catalogue entry: say so rather than drop
    # options silently (a different key field, above all, would be a different subject).
    differing = [
        f"--{name.replace('_', '-')} {value!r} (the subject has {existing[name]!r})"
        for name, value in metadata.items()
        if existing.get(name) != value
    ]
    if differing:
        raise click.ClickException(
            f"subject {existing['subject']} exists with other settings: "
            + "; ".join(differing)
            + ". A new version keeps the subject's settings: drop or correct these options."
        )


def _register_version(client: ExchangeClient, subject: str, document: Any, file: str) -> Any:
    path = f"/v1/subjects/{subject}/versions"
    known = {item["version"] for item in call(partial(client.get, path))["versions"]}
    answer = call(partial(client.post, path, json={"schema": document}))
    if answer["version"] in known:
        click.echo(
            f"subject {subject} exists: {file} is identical to version {answer['version']}, "
            "nothing registered",
            err=True,
        )
    else:
        click.echo(f"subject {subject} exists: registered version {answer['version']}", err=True)
    return answer


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
