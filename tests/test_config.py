from pathlib import Path

import pytest

from exchange.config import load_settings
from exchange.errors import ConfigurationError


def test_defaults_give_an_embedded_deployment_in_var():
    settings = load_settings(environ={})
    assert settings.transport == "embedded"
    assert settings.data_dir == Path("var")
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("var/exchange.db")


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path):
    config = tmp_path / "exchange.toml"
    config.write_text('transport = "kafka"\nport = 9000\n')
    settings = load_settings(
        environ={"EXCHANGE_PORT": "9100", "EXCHANGE_CONFIG": str(config)},
    )
    assert settings.transport == "kafka"
    assert settings.port == 9100


def test_unknown_key_in_the_file_is_named(tmp_path):
    config = tmp_path / "exchange.toml"
    config.write_text("prot = 9000\n")
    with pytest.raises(ConfigurationError, match="'prot'"):
        load_settings(environ={}, config_file=config)


def test_unknown_environment_variable_is_named():
    with pytest.raises(ConfigurationError, match="EXCHANGE_TRANSPROT"):
        load_settings(environ={"EXCHANGE_TRANSPROT": "kafka"})


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("EXCHANGE_PORT", "eighty", "'port'"),
        ("EXCHANGE_PORT", "-1", "'port'"),
        ("EXCHANGE_TRANSPORT", "rabbitmq", "must be one of embedded, kafka"),
        ("EXCHANGE_SHUTDOWN_TIMEOUT_S", "soon", "'shutdown_timeout_s'"),
    ],
)
def test_bad_values_fail_naming_the_key(name, value, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings(environ={name: value})


def test_a_missing_config_file_named_in_the_environment_fails():
    with pytest.raises(ConfigurationError, match="not a file"):
        load_settings(environ={"EXCHANGE_CONFIG": "/nonexistent/exchange.toml"})


def test_client_side_variables_are_not_hub_settings():
    settings = load_settings(environ={"EXCHANGE_KEY_FILE": "var/keys/admin.pem"})
    assert settings.port == 8080
