"""Settings: environment variables, the /api/v1 suffix, bounds, secrets kept out of repr."""

import pytest
from pydantic import ValidationError

from config.api import ApiSettings, RateLimitSettings, RetrySettings
from craflow.api import redact
from craflow.api.secrets import scrub


@pytest.mark.parametrize(
    ("url", "api_base"),
    [
        ("https://api.craevidence.com", "https://api.craevidence.com/api/v1"),
        ("https://api.craevidence.com/", "https://api.craevidence.com/api/v1"),
        ("https://api.craevidence.com/api/v1", "https://api.craevidence.com/api/v1"),
        ("https://api.craevidence.com/api/v1/", "https://api.craevidence.com/api/v1"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/api/v1"),
        ("https://corp.example/cra", "https://corp.example/cra/api/v1"),
    ],
)
def test_api_base_always_ends_in_api_v1(url: str, api_base: str) -> None:
    assert ApiSettings(url=url).api_base == api_base


def test_reads_the_platform_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRA_EVIDENCE_URL", "https://cra.example/api/v1")
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", "cra_from_env_key_9876")
    monkeypatch.setenv("CRA_EVIDENCE_EMAIL", "a@b.c")
    monkeypatch.setenv("CRA_EVIDENCE_PASSWORD", "pw")
    monkeypatch.setenv("CRAFLOW_VERIFY_TLS", "false")
    monkeypatch.setenv("CRAFLOW_READ_TIMEOUT", "5")
    settings = ApiSettings()
    assert settings.api_base == "https://cra.example/api/v1"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "cra_from_env_key_9876"
    assert settings.email == "a@b.c"
    assert settings.verify_tls is False
    assert settings.read_timeout == 5.0


def test_default_url_is_the_local_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRA_EVIDENCE_URL", raising=False)
    assert ApiSettings().api_base == "http://127.0.0.1:8765/api/v1"


def test_retry_and_rate_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_RETRY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("CRAFLOW_RETRY_RATE_LIMIT_WAIT_CAP_SECONDS", "60")
    monkeypatch.setenv("CRAFLOW_RATE_READ_PER_MINUTE", "100")
    monkeypatch.setenv("CRAFLOW_RATE_UPLOAD_PER_HOUR", "10")
    monkeypatch.setenv("CRAFLOW_RATE_ENABLED", "false")
    assert RetrySettings().max_attempts == 3
    assert RetrySettings().rate_limit_wait_cap_seconds == 60.0
    rates = RateLimitSettings()
    assert (rates.read_per_minute, rates.upload_per_hour, rates.enabled) == (100, 10, False)


def test_defaults_match_the_contract() -> None:
    retry = RetrySettings()
    assert (retry.max_attempts, retry.backoff_base_seconds, retry.backoff_cap_seconds) == (
        5,
        0.5,
        30,
    )
    assert retry.rate_limit_wait_cap_seconds == 120
    rates = RateLimitSettings()
    assert (rates.read_per_minute, rates.write_per_minute) == (300, 60)
    assert (rates.upload_per_hour, rates.auth_per_minute) == (50, 5)


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (ApiSettings, "url", "ftp://nope"),
        (ApiSettings, "url", "api.craevidence.com"),
        (ApiSettings, "read_timeout", 0),
        (ApiSettings, "connect_timeout", -1),
        (RetrySettings, "max_attempts", 0),
        (RetrySettings, "max_attempts", 1000),
        (RetrySettings, "backoff_cap_seconds", -1),
        (RateLimitSettings, "read_per_minute", 0),
    ],
)
def test_out_of_bounds_values_are_refused(cls: type, field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        cls(**{field: value})


def test_every_field_has_a_description() -> None:
    for cls in (ApiSettings, RetrySettings, RateLimitSettings):
        for name, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{name} has no description"


def test_secrets_stay_out_of_repr() -> None:
    settings = ApiSettings(api_key="cra_supersecret_1234", password="hunter2hunter2")
    assert "supersecret" not in repr(settings)
    assert "hunter2" not in repr(settings)
    assert "supersecret" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("cra_0123456789abcdef", "cra_****cdef"),
        ("cra_short", "cra_****"),
        ("", "cra_****"),
        (None, "<none>"),
    ],
)
def test_redact(key: str | None, shown: str) -> None:
    assert redact(key) == shown


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("key cra_live_0123456789abcdef here", "key cra_****cdef here"),
        ("Authorization: Bearer eyJ.abc-def_1", "Authorization: Bearer ****"),
        ("source cra_required is fine", "source cra_required is fine"),
        ("nothing secret", "nothing secret"),
    ],
)
def test_scrub(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed
