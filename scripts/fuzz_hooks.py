"""Schemathesis extension for scripts/fuzz: schema-valid requests must be accepted, except where a
rule JSON Schema cannot state refuses them.

Schemathesis's own `positive_data_acceptance` fails any 422 to a request the document admits. The
document states every bound it can (app/http/openapi_bounds.py: ids, pages, dates, text, money,
enums, closed bodies), so a 422 for any of those is a real disagreement between document and
service and fails here too. What it cannot state are the rules below, which depend on the clock,
on other fields of the same body or on the resource's state; a 422 naming one of them is the
right answer, and this check lets exactly those through.
"""

from __future__ import annotations

import json

import schemathesis
from schemathesis.core.failures import Failure

# Problem codes of rules a JSON Schema cannot express, each with why.
RULES_BEYOND_SCHEMA = {
    "invalid_credit_code": "a unified social credit code's check digit (GB 32100-2015)",
    "starts_in_past": "a time relative to the server's clock",
    "notice_too_short": "a start at least the notice period after now (最高法 网络司法拍卖规定 第12条)",
    "ends_before_start": "one field of the body against another",
    "invalid_auction_terms": "a price against the increment grid and the other prices of the body",
    "not_a_patent": "patent facts sent for a collateral item that is not a patent",
    "patent_term_ended": "a filing date whose term has run out by today",
    "licensee_mismatch": "a licence's licensee against the recorded consent",
    "maturity_not_after_origination": "one date of the body against another",
    "auction_terms_required": "a field required by another field's value (an auction listing's terms)",
    "nothing_to_change": "a change that names no field (all of them are optional)",
    "start_price_below_minimum": "a start price against the case's appraisal and earlier rounds",
    "starts_too_far_ahead": "a time relative to the server's clock (IPX_AUCTION_MAX_LEAD_S)",
    "ends_too_far_ahead": "a time relative to the server's clock (IPX_AUCTION_MAX_LEAD_S)",
    "subscription_only_income_right": "one field's value allowed only with another's (an income right by subscription)",
    "outstanding_exceeds_principal": "one amount of the body against another",
    "case_repeated": "one item of a list against the others (a case in two lots)",
    "deposit_out_of_range": "a deposit against the lot's start price (a share of it)",
    "share_out_of_range": "a share against what the seller holds",
    "licensee_not_allowed": "a field allowed only with another's value (a licensee for a licence kind)",
    "licensee_required": "a field required by another field's value (a licence kind)",
    "valid_until_past": "a time relative to the server's clock",
    "date_in_future": "a date relative to the server's clock (a filing or grant date after today)",
    "valid_until_too_far": "a time relative to the server's clock (IPX_BUYOUT_MAX_VALIDITY_S)",
    "filed_on_required": "a field required by another field's value (a patent's filing date)",
    "collateral_count": "a list's length against the loan's collateral",
    "lot_ids_invalid": "ids that must name the session's own lots",
    "lot_not_in_session": "ids that must name the session's own lots",
    "off_grid": "a bid against the lot's increment grid",
}
# As schemathesis's positive_data_acceptance: answers that say nothing about the data.
ACCEPTED = {401, 403, 404, 409, 429}


class SchemaValidRejected(Failure):
    """A request the document admits was refused as invalid, by no rule beyond the schema."""

    code = "ST902"
    kind_title = "Schema-valid request rejected by a bound the document could state"

    __slots__ = ("problem_code", "status_code")

    def __init__(self, *, operation: str, status_code: int, problem_code: str | None) -> None:
        super().__init__(
            operation=operation,
            message=(
                f"{status_code} {problem_code or '(no problem code)'}: the document admits this request; "
                "state the bound in the OpenAPI document, or name the rule in "
                "scripts/fuzz_hooks.py RULES_BEYOND_SCHEMA"
            ),
        )
        self.status_code = status_code
        self.problem_code = problem_code

    @property
    def _unique_key(self) -> str:
        return f"{self.status_code} {self.problem_code}"


def _problem_code(response: object) -> str | None:
    try:
        return json.loads(response.content).get("code")  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return None


@schemathesis.check
def schema_valid_accepted(ctx: object, response: object, case: object) -> bool | None:
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code  # type: ignore[attr-defined]
    if 200 <= status < 400 or status in ACCEPTED or status >= 500:
        return None  # a 5xx is not_a_server_error's to report
    problem_code = _problem_code(response)
    if status == 422 and problem_code in RULES_BEYOND_SCHEMA:
        return None
    raise SchemaValidRejected(operation=case.operation.label, status_code=status, problem_code=problem_code)  # type: ignore[attr-defined]
