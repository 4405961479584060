"""Settings read from the environment: a yes/no setting takes only yes or no words, and
a length of time that must pass is at least 1, so a typo stops the start with a message
rather than turning off what it names."""

import pytest

from config import load_config


@pytest.mark.parametrize("name", ["RATELIMIT_ENABLED", "MAIL_USE_TLS", "MAIL_USE_SSL"])
@pytest.mark.parametrize("typo", ["ture", "maybe", "enabled", "2"])
def test_a_yes_no_setting_refuses_other_words(monkeypatch, tmp_path, name, typo):
    monkeypatch.setenv(name, typo)
    with pytest.raises(RuntimeError, match=f"{name} must be one of .* not '{typo}'"):
        load_config(str(tmp_path))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True),
     ("0", False), ("false", False), ("No", False), ("off", False), ("", True)],
)
def test_a_yes_no_setting_takes_its_words(monkeypatch, tmp_path, value, expected):
    monkeypatch.setenv("RATELIMIT_ENABLED", value)
    assert load_config(str(tmp_path))["RATELIMIT_ENABLED"] is expected


@pytest.mark.parametrize("name", ["PAYMENT_HOLD_MINUTES", "PAYMENT_OFFER_HOURS"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_hold_of_no_time_is_refused(monkeypatch, tmp_path, name, value):
    """Every held place would have ended before its family could pay."""
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=f"{name} must be at least 1"):
        load_config(str(tmp_path))
    monkeypatch.setenv(name, "45")
    assert load_config(str(tmp_path))[name] == 45
