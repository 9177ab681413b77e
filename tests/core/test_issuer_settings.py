"""Issue 14 §2: the issuer's settings: registration number check digit, the placeholder only
in development mode (and /readyz says so), address, telephone, 法人番号, transfer accounts."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import ValidationError

from app.core.settings import Settings

REAL = "T7000012050002"


def test_the_placeholder_is_refused_outside_development_mode() -> None:
    assert Settings().env == "development"  # make run and the tests work out of the box
    assert Settings().uses_placeholder_issuer
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="production")
    assert not Settings(env="production", issuer_registration_number=REAL).uses_placeholder_issuer


def test_the_registration_and_corporate_numbers_check_digits() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        Settings(issuer_registration_number="T7000012050003")
    with pytest.raises(ValidationError, match="check digit"):
        Settings(issuer_corporate_number="7000012050003")
    assert Settings(issuer_corporate_number="7000012050002").issuer_corporate_number


def test_bank_accounts_and_contact_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = {
        "bank_code": "0001",
        "bank_name": "みずほ銀行",
        "branch_code": "110",
        "branch_name": "丸の内支店",
        "account_type": "当座",
        "account_number": "1234567",
        "account_holder": "ｱﾙﾃﾘｱ.ﾈﾂﾄﾜ-ｸｽ(ｶ",
    }
    monkeypatch.setenv("SCMS_ISSUER_BANK_ACCOUNTS", json.dumps([account]))
    monkeypatch.setenv("SCMS_ISSUER_ADDRESS", "東京都千代田区")
    monkeypatch.setenv("SCMS_ISSUER_TELEPHONE", "03-0000-0000")
    settings = Settings()
    assert [a.model_dump() for a in settings.issuer_bank_accounts] == [account]
    assert (settings.issuer_address, settings.issuer_telephone) == (
        "東京都千代田区",
        "03-0000-0000",
    )
    monkeypatch.setenv("SCMS_ISSUER_BANK_ACCOUNTS", json.dumps([{**account, "branch_code": "1"}]))
    with pytest.raises(ValidationError):
        Settings()


async def test_readyz_says_development_mode_and_the_placeholder(
    client: httpx.AsyncClient,
) -> None:
    checks = (await client.get("/readyz")).json()["checks"]
    assert checks["environment"] == "development"
    assert checks["issuer_registration_number"].startswith("placeholder")
