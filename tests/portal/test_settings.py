"""Production settings come from the environment, refuse to start half-configured, and pass
Django's deployment checklist."""

import os
import subprocess
import sys

from tests.services import ROOT

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!kq2-production-like-secret-key-with-enough-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "portal.example.org",
    "NOTICES_WEBHOOK_KEY": "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE=",
}


def manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "NOTICES_WEBHOOK_KEY",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_a_missing_or_broken_webhook_key():
    for key in ("", "not-a-fernet-key"):
        env = {**PRODUCTION, "NOTICES_WEBHOOK_KEY": key}
        result = manage("check", "--deploy", env=env)
        assert result.returncode != 0
        assert "notices.E001" in result.stderr + result.stdout
        assert "NOTICES_WEBHOOK_KEY" in result.stderr + result.stdout


def test_missing_secret_key_stops_start_up_naming_it():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_missing_allowed_hosts_stops_start_up_naming_it():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_env_example_documents_every_variable_the_settings_read():
    import re

    settings_source = (ROOT / "portal" / "settings.py").read_text()
    read = set(
        re.findall(
            r'(?:env|env_bool|env_int|env_float|env_list|require)\(\s*"([A-Z_]+)"', settings_source
        )
    )
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no variables found: the pattern is out of date"
    assert read - documented == set()
