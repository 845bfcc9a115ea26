"""`exchange department|operator|key`: manage principals on a running hub."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click

from exchange.cli.remote import call, client_for, echo_json, hub_options


@click.group(help="Departments on the hub.")
def department() -> None:
    """The `department` command group."""


@department.command("add", help="Register a department (administrators).")
@click.argument("code")
@click.option("--name", required=True, help="Full name of the department.")
@click.option("--contact", required=True, help="Contact address of its data officer.")
@hub_options
def department_add(code: str, name: str, contact: str, url: str, key_file: str) -> None:
    """POST /v1/departments."""
    client = client_for(url, key_file)
    echo_json(
        call(
            lambda: client.post(
                "/v1/departments", json={"code": code, "name": name, "contact": contact}
            )
        )
    )


@department.command("list", help="List departments, following every page.")
@hub_options
def department_list(url: str, key_file: str) -> None:
    """GET /v1/departments, all pages."""
    client = client_for(url, key_file)
    cursor: str | None = None
    while True:
        page = call(
            partial(client.get, "/v1/departments", params={"after": cursor} if cursor else {})
        )
        for item in page["departments"]:
            click.echo(f"{item['code']:<32} {item['name']}  <{item['contact']}>")
        cursor = page["next_cursor"]
        if not cursor:
            break


@click.group(help="Administrators and auditors.")
def operator() -> None:
    """The `operator` command group."""


@operator.command("add", help="Register an administrator or auditor (administrators).")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "auditor"]), required=True)
@hub_options
def operator_add(name: str, role: str, url: str, key_file: str) -> None:
    """POST /v1/operators."""
    client = client_for(url, key_file)
    echo_json(call(lambda: client.post("/v1/operators", json={"name": name, "role": role})))


def _keys_path(department_code: str | None, operator_name: str | None) -> str:
    if bool(department_code) == bool(operator_name):
        raise click.UsageError("name exactly one of --department or --operator")
    if department_code:
        return f"/v1/departments/{department_code}/keys"
    return f"/v1/operators/{operator_name}/keys"


_owner_options = [
    click.option("--department", "department_code", help="Department code."),
    click.option("--operator", "operator_name", help="Operator name."),
]


def _with_owner(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_owner_options):
        command = option(command)
    return command


@click.group(help="Public keys of departments and operators (rotation, revocation).")
def key() -> None:
    """The `key` command group."""


@key.command("add", help="Register a public key (JWK JSON or PEM file) for a principal.")
@click.argument("public_key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_owner
@hub_options
def key_add(
    public_key_file: Path,
    department_code: str | None,
    operator_name: str | None,
    url: str,
    key_file: str,
) -> None:
    """POST .../keys."""
    text = public_key_file.read_text(encoding="utf-8")
    public_key: object = text
    if text.lstrip().startswith("{"):
        public_key = json.loads(text)
    client = client_for(url, key_file)
    path = _keys_path(department_code, operator_name)
    echo_json(call(lambda: client.post(path, json={"public_key": public_key})))


@key.command("list", help="List a principal's keys, revoked ones included.")
@_with_owner
@hub_options
def key_list(
    department_code: str | None, operator_name: str | None, url: str, key_file: str
) -> None:
    """GET .../keys."""
    client = client_for(url, key_file)
    path = _keys_path(department_code, operator_name)
    for item in call(lambda: client.get(path))["keys"]:
        state = f"revoked {item['revoked_at']}" if item["revoked_at"] else "live"
        click.echo(f"{item['key_id']}  {state}")


@key.command(
    "revoke",
    help="Revoke a key at once. A key id starting with '-' goes after '--' (end of options).",
)
@click.argument("key_id")
@_with_owner
@hub_options
def key_revoke(
    key_id: str, department_code: str | None, operator_name: str | None, url: str, key_file: str
) -> None:
    """DELETE .../keys/{key_id}."""
    client = client_for(url, key_file)
    path = _keys_path(department_code, operator_name)
    echo_json(call(lambda: client.delete(f"{path}/{key_id}")))
