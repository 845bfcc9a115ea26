import re
from dataclasses import fields
from pathlib import Path

import pytest

from exchange.config import Settings, load_settings
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
        ("EXCHANGE_PORT", "0", "'port': must be a port number"),
        ("EXCHANGE_PORT", "65536", "'port': must be a port number"),
        ("EXCHANGE_WORKERS", "0", "'workers': must be at least 1"),
        ("EXCHANGE_THREADS", "0", "'threads': must be at least 1"),
        ("EXCHANGE_TOPIC_PARTITIONS", "0", "'topic_partitions'"),
        ("EXCHANGE_TOPIC_REPLICATION_FACTOR", "0", "'topic_replication_factor'"),
        ("EXCHANGE_MAX_REQUEST_BYTES", "0", "'max_request_bytes'"),
        ("EXCHANGE_MAX_BATCH_RECORDS", "0", "'max_batch_records'"),
        ("EXCHANGE_SIGNATURE_WINDOW_S", "0", "'signature_window_s'"),
        ("EXCHANGE_AUDIT_CHECKPOINT_EVERY", "0", "'audit_checkpoint_every'"),
        ("EXCHANGE_AUDIT_CHECKPOINT_SECONDS", "0", "'audit_checkpoint_seconds'"),
        ("EXCHANGE_LOG_LEVEL", "LOUD", "'log_level': must be a logging level"),
        ("EXCHANGE_LOG_FORMAT", "xml", "'log_format'"),
        ("EXCHANGE_DATABASE_URL", "not a url", "'database_url': must be a SQLAlchemy URL"),
        ("EXCHANGE_KAFKA_BOOTSTRAP_SERVERS", "", "'kafka_bootstrap_servers'"),
        ("EXCHANGE_HOST", " ", "'host': must not be empty"),
        ("EXCHANGE_PUBLIC_URL", "exchange.example.gov", "'public_url': must be an absolute"),
        ("EXCHANGE_PUBLIC_URL", "ftp://exchange.example.gov", "'public_url'"),
        ("EXCHANGE_RATE_LIMIT_PER_PRINCIPAL", "lots", "'rate_limit_per_principal'"),
        ("EXCHANGE_RATE_LIMIT_STORAGE_URL", "redos://cache", "'rate_limit_storage_url'"),
        ("EXCHANGE_CONNECTOR_LEASE_S", "0", "'connector_lease_s': must be greater than 0"),
        ("EXCHANGE_CONNECTOR_POLL_INTERVAL_S", "0", "'connector_poll_interval_s'"),
        ("EXCHANGE_CONNECTOR_RESTART_BASE_S", "0", "'connector_restart_base_s'"),
        ("EXCHANGE_CONNECTOR_RESTART_MAX_S", "0.5", "'connector_restart_max_s'"),
        ("EXCHANGE_METRICS_PUBLIC", "perhaps", "'metrics_public'"),
    ],
)
def test_bad_values_fail_naming_the_key(name, value, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings(environ={name: value})


def test_good_values_of_the_checked_settings_are_accepted():
    settings = load_settings(
        environ={
            "EXCHANGE_PORT": "65535",
            "EXCHANGE_LOG_LEVEL": "debug",
            "EXCHANGE_DATABASE_URL": "postgresql+psycopg://exchange:pw@db/exchange",
            "EXCHANGE_PUBLIC_URL": "https://exchange.example.gov/hub",
            "EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": "600/minute;20/second",
            "EXCHANGE_RATE_LIMIT_STORAGE_URL": "redis://cache:6379",
            "EXCHANGE_METRICS_PUBLIC": "true",
        }
    )
    assert settings.port == 65535
    assert settings.metrics_public is True


def test_a_bad_value_in_the_file_is_named(tmp_path):
    config = tmp_path / "exchange.toml"
    config.write_text("workers = 0\n")
    with pytest.raises(ConfigurationError, match="'workers'"):
        load_settings(environ={}, config_file=config)


def test_a_bad_database_url_is_named_without_repeating_it():
    with pytest.raises(ConfigurationError, match="'database_url'") as refused:
        load_settings(environ={"EXCHANGE_DATABASE_URL": "postgresql+psycopg://u:s3cret@db:x/e"})
    assert "s3cret" not in str(refused.value)


def test_a_missing_config_file_named_in_the_environment_fails():
    with pytest.raises(ConfigurationError, match="not a file"):
        load_settings(environ={"EXCHANGE_CONFIG": "/nonexistent/exchange.toml"})


def test_client_side_variables_are_not_hub_settings():
    settings = load_settings(environ={"EXCHANGE_KEY_FILE": "var/keys/admin.pem"})
    assert settings.port == 8080


def test_the_example_file_names_every_setting_and_loads(tmp_path):
    example = Path(__file__).resolve().parents[1] / "config" / "exchange.example.toml"
    text = example.read_text()
    missing = [f.name for f in fields(Settings) if not re.search(rf"^#? ?{f.name} =", text, re.M)]
    assert missing == [], f"config/exchange.example.toml does not mention {missing}"
    assert load_settings(environ={}, config_file=example) == Settings()
