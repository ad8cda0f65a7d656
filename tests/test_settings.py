import json
import os
import subprocess
import sys


def _read_setting(tmp_path, name, **env):
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bamara.settings",
             "BAMARA_DATA_DIR": str(tmp_path), **env},
        capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


def test_it_generates_development_secrets_once_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("BAMARA_SECRET_KEY", raising=False)
    monkeypatch.delenv("BAMARA_IDMR_KEY", raising=False)
    first = _read_setting(tmp_path, "IDMR_KEY")
    second = _read_setting(tmp_path, "IDMR_KEY")
    assert first == second and len(first) > 40
    stored = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert stored["BAMARA_IDMR_KEY"] == first
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode)[-3:] == "600"


def test_it_takes_secrets_from_the_environment(tmp_path):
    assert _read_setting(tmp_path, "SECRET_KEY", BAMARA_SECRET_KEY="from-env") == "from-env"


def test_it_refuses_to_start_in_production_without_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("BAMARA_SECRET_KEY", raising=False)
    result = subprocess.run(
        [sys.executable, "-c", "import bamara.settings"],
        env={**os.environ, "BAMARA_ENV": "production", "BAMARA_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "BAMARA_SECRET_KEY must be set" in result.stderr
