"""Settings: AGORA_* variables (and DATABASE_URL) over an optional .env file, checked when read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs
import pytest

from market.core.settings import Settings, SettingsError, ensure_operator_token, load_settings


def settings_from(**environ: str) -> Settings:
    return load_settings(environ, env_file=None)


def write_env_file(directory: Path, *lines: str) -> Path:
    path = directory / ".env"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_defaults():
    settings = settings_from()

    assert settings.data_dir == platformdirs.user_data_path("agora")
    assert settings.database_url is None
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "info")
    assert settings.operator_token is None
    assert (settings.db_pool_min_size, settings.db_pool_max_size) == (1, 10)
    assert settings.max_batch_items == 1000
    assert settings.max_body_bytes == 16 * 1024 * 1024
    assert settings.max_import_bytes == 4 * 1024**3
    assert settings.query_precision == "int8"


def test_numbers_are_read_from_their_text():
    settings = settings_from(AGORA_PORT="9001", AGORA_MAX_IMPORT_BYTES="5000")

    assert settings.port == 9001
    assert isinstance(settings.port, int)
    assert settings.max_import_bytes == 5000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGORA_PORT", "eighty"),
        ("AGORA_PORT", "70000"),
        ("AGORA_PORT", "-1"),
        ("AGORA_MAX_BATCH_ITEMS", "0"),
        ("AGORA_DB_POOL_MAX_SIZE", "ten"),
        ("AGORA_QUERY_PRECISION", "int4"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from(**{name: value})


def test_an_unknown_agora_variable_is_refused_naming_it():
    with pytest.raises(SettingsError, match="AGORA_PROT"):
        settings_from(AGORA_PROT="9001")


def test_variables_that_are_not_agoras_are_ignored():
    settings = settings_from(PATH="/usr/bin", PORT="1", HOST="example.org", AGORA="x", AGORA_SELLER_KEY="k")

    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_an_empty_value_counts_as_unset():
    assert settings_from(AGORA_PORT="", AGORA_OPERATOR_TOKEN="").port == 8000
    assert settings_from(AGORA_OPERATOR_TOKEN="").operator_token is None


def test_database_url_is_honoured_as_is():
    url = "postgresql://agora:s3cr%40t@db.internal:6432/agora?sslmode=require&application_name=agora"

    assert settings_from(DATABASE_URL=url).database_url == url


def test_the_data_dir_is_a_path_with_home_expanded(tmp_path):
    assert settings_from(AGORA_DATA_DIR=str(tmp_path / "agora")).data_dir == tmp_path / "agora"
    home = settings_from(AGORA_DATA_DIR="~/agora-data").data_dir
    assert isinstance(home, Path)
    assert home == Path.home() / "agora-data"


def test_values_come_from_the_env_file_and_the_real_environment_wins(tmp_path):
    env_file = write_env_file(
        tmp_path, "# a comment", "AGORA_HOST=0.0.0.0", "AGORA_PORT=9100", "DATABASE_URL=postgresql://file/db"
    )

    settings = load_settings({"AGORA_PORT": "9200"}, env_file=env_file)

    assert (settings.host, settings.port) == ("0.0.0.0", 9200)
    assert settings.database_url == "postgresql://file/db"
    assert load_settings({"DATABASE_URL": "postgresql://real/agora"}, env_file=env_file).database_url == (
        "postgresql://real/agora"
    )


def test_an_unknown_variable_in_the_env_file_is_refused_too(tmp_path):
    env_file = write_env_file(tmp_path, "AGORA_HOTS=0.0.0.0")

    with pytest.raises(SettingsError, match="AGORA_HOTS"):
        load_settings({}, env_file=env_file)


def test_a_missing_env_file_is_no_error(tmp_path):
    assert load_settings({}, env_file=tmp_path / "absent.env").port == 8000


def test_by_default_the_process_environment_and_dot_env_in_the_working_dir_are_read(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("AGORA_") or name == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path, "AGORA_HOST=10.0.0.5", "AGORA_PORT=9100")
    monkeypatch.setenv("AGORA_PORT", "9300")

    settings = load_settings()

    assert (settings.host, settings.port) == ("10.0.0.5", 9300)


# -- the operator token --------------------------------------------------------------------------------


def test_an_operator_token_is_generated_once_and_kept_private(tmp_path):
    settings = settings_from(AGORA_DATA_DIR=str(tmp_path / "not-yet" / "data"))

    token = ensure_operator_token(settings)

    assert token.startswith("agora_op_") and len(token) > 30
    assert settings.operator_token_file.read_text().strip() == token
    assert stat.S_IMODE(settings.operator_token_file.stat().st_mode) == 0o600
    assert ensure_operator_token(settings) == token
    # Another process on the same data dir finds the same token.
    assert ensure_operator_token(settings_from(AGORA_DATA_DIR=str(settings.data_dir))) == token


def test_each_data_dir_gets_its_own_token(tmp_path):
    one = ensure_operator_token(settings_from(AGORA_DATA_DIR=str(tmp_path / "one")))
    two = ensure_operator_token(settings_from(AGORA_DATA_DIR=str(tmp_path / "two")))

    assert one != two


def test_a_configured_operator_token_is_used_and_nothing_is_written(tmp_path):
    settings = settings_from(AGORA_DATA_DIR=str(tmp_path), AGORA_OPERATOR_TOKEN="agora_op_configured")

    assert ensure_operator_token(settings) == "agora_op_configured"
    assert not settings.operator_token_file.exists()


def test_an_empty_token_file_never_becomes_an_empty_token(tmp_path):
    # What a crash (or a second process reading too early) can leave behind: the file, but no token in it.
    settings = settings_from(AGORA_DATA_DIR=str(tmp_path / "data"))
    settings.data_dir.mkdir(parents=True)
    settings.operator_token_file.write_text("")

    token = ensure_operator_token(settings)

    assert token.strip()
    assert ensure_operator_token(settings) == token
