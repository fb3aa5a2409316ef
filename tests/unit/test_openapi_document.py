"""The OpenAPI document states what the service really answers and accepts (app/http/openapi_*.py):
every refusal with the problem schema, the bounds of ids, pages and dates, closed bodies, and a
money pattern that admits only amounts the service parses."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.http.input_bounds import MAX_ID, POSITIVE_YUAN_PATTERN, YUAN_PATTERN
from app.http.openapi_bounds import DATE_PATTERN
from app.main import create_app
from app.settings import load_settings
from transfer.kernel.money import MAX_AMOUNT_FEN, parse_yuan

PROBLEM_REF = "#/components/schemas/Problem"
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('openapi')) / 'doc.db'}"
    app = create_app(load_settings({}, database_url=url), run_scheduler=False)
    return app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method in {"get", *WRITES}
    ]


def test_every_operation_states_its_refusals_with_the_problem_schema(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) > 70
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"400", "401", "403", "404", "422", "429"} | ({"409"} if method in WRITES else set())
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            schema = responses[status]["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": PROBLEM_REF}, (method, path, status)
        assert any(code.startswith("2") for code in responses), (method, path)
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "code",
        "detail",
        "instance",
    }


def test_path_ids_and_pages_carry_the_bounds_the_middleware_applies(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schemas = parameter["schema"].get("oneOf", [parameter["schema"]])
            for schema in (s for s in schemas if s.get("type") == "integer"):
                if parameter["in"] == "path":
                    assert (schema["minimum"], schema["maximum"]) == (1, MAX_ID), (method, path)
                elif parameter["name"] == "offset":
                    assert (schema["minimum"], schema["maximum"]) == (0, 1_000_000), (method, path)
                else:
                    assert schema["minimum"] >= 0 and schema["maximum"] <= MAX_ID, (method, path)
            for schema in (s for s in schemas if s.get("format") == "date"):
                assert schema["pattern"] == DATE_PATTERN, (method, path)


def test_every_body_is_closed_and_a_writing_route_answers_what_it_documents(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        reference = body["content"]["application/json"]["schema"]["$ref"]
        assert schemas[reference.rsplit("/", 1)[1]]["additionalProperties"] is False, (method, path)
    # Routes that answer 200 (not 201) say so: the status the answer carries is the route's own.
    cancel = document["paths"]["/api/v1/auctions/{auction_id}/cancel"]["post"]["responses"]
    assert "200" in cancel and "201" not in cancel
    assert cancel["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuctionOut"
    }


@given(st.from_regex(POSITIVE_YUAN_PATTERN, fullmatch=True))
def test_every_documented_positive_amount_parses_to_more_than_nothing(text: str) -> None:
    assert 0 < parse_yuan(text, "amount") <= MAX_AMOUNT_FEN


@given(st.from_regex(YUAN_PATTERN, fullmatch=True))
def test_every_documented_amount_parses(text: str) -> None:
    assert 0 <= parse_yuan(text, "amount", allow_zero=True) <= MAX_AMOUNT_FEN


EDGES = [
    ("0", False, True),
    ("0.00", False, True),
    ("0.01", True, True),
    ("1500.00", True, True),
    ("01", False, False),
    ("1.234", False, False),
    ("-1", False, False),
    ("10000000000000", False, False),
]


@pytest.mark.parametrize(("text", "positive", "any_amount"), EDGES)
def test_the_money_patterns_at_their_edges(text: str, positive: bool, any_amount: bool) -> None:
    assert (re.match(POSITIVE_YUAN_PATTERN, text) is not None, re.match(YUAN_PATTERN, text) is not None) == (
        positive,
        any_amount,
    )


@given(st.from_regex(DATE_PATTERN, fullmatch=True))
def test_a_documented_date_is_in_the_calendars_range_when_it_is_a_date(text: str) -> None:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return  # 2023-02-30 matches the pattern; the service refuses it as no date at all
    assert date(1900, 1, 1) <= value <= date(2199, 12, 31)
