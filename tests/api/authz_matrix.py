"""The authorization matrix (issue 17): for every /api/v1 operation, the answer each role gets on
its own resource and on another participant's.

Two worlds are built (tests/api/test_authorization_matrix.py): in each, one participant per role,
a bank's loan with a patent (its annuities, an income-right share sold to the world's bidder, an
open listing with the bidder's offer), an auction the bidder registered for, a disposal case with
the world's agency's buyout offer, the agency's pool with a bought asset, a revenue and an open
licence, a standing commitment, a compensation fund and a withdrawal awaiting approval. A row's
resource is world 1's. The cell "own" is world 1's participant of that role (the bank is the
loan's creditor and the listing's, auction's and case's seller; the bidder holds a share of the
loan, made the offer and is registered; the agency owns the pool, the offer and the commitment;
the clearing clerk made the withdrawal awaiting approval; for the rest, own and other are the
same); "other" is world 2's participant of that role, a stranger to world 1. A cell reads
"own/other", or one answer for both.

A row marked `fresh` consumes its resource when admitted (a cancel, an accept, a settlement), so
every cell of it gets its own, made in world 1 just before. Bodies are valid, so an admitted cell
shows how far the request gets: 2xx, or the state's refusal (409) past the door.

The README's table is rendered from this module by scripts/authz_table, and a test holds the
two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from transfer.rules.uscc import uscc_check_character

ROLES = ("anonymous", "admin", "clearing", "bank", "bidder", "agency")
KEYED_ROLES = ROLES[1:]

Ids = dict[str, Any]
Body = Callable[["Call"], Any]


@dataclass
class Call:
    """What a body is made from: the target's ids (world 1's, or the cell's fresh ones), the
    server's clock, and a counter for references that must be new."""

    ids: Ids
    now: datetime
    serial: int

    def reference(self, kind: str) -> str:
        return f"AUTHZ-{kind}-{self.serial}"

    def credit_code(self) -> str:
        body = f"9133020000000{self.serial % 10_000:04d}"
        return body + uscc_check_character(body)

    def at(self, days: float) -> str:
        return (self.now + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    resource: str  # what the path or the body names, "-" for nothing but the caller itself
    cells: str  # "anonymous | admin | clearing | bank | bidder | agency", each "own/other" or one
    body: Body | None = None
    query: str = ""
    # path parameter -> the id of the world it is filled from (default: PARAMETER_IDS)
    params: dict[str, str] = field(default_factory=dict)
    fresh: str | None = None  # the kind of resource made for each cell (test_authorization_matrix)
    # A list: the world-1 id (a key of the world's ids) whose item the "own" answer of the roles in
    # `shown_to` includes and the "other" answer of the roles in `hidden_from` never does.
    listed: str | None = None
    shown_to: tuple[str, ...] = ()
    hidden_from: tuple[str, ...] = ()

    def expected(self) -> dict[tuple[str, str], int]:
        """(role, "own" | "other") -> status; anonymous has one cell, keyed "other"."""
        groups = [group.strip() for group in self.cells.split("|")]
        assert len(groups) == len(ROLES), (self.method, self.path, self.cells)
        answers: dict[tuple[str, str], int] = {("anonymous", "other"): int(groups[0])}
        for role, group in zip(KEYED_ROLES, groups[1:], strict=True):
            own, _, other = group.partition("/")
            answers[(role, "own")] = int(own)
            answers[(role, "other")] = int(other or own)
        return answers


PARAMETER_IDS = {
    "participant_id": "bank_id",
    "loan_id": "loan",
    "collateral_id": "collateral",
    "cid": "collateral",
    "annuity_id": "annuity",
    "listing_id": "listing",
    "trade_id": "trade",
    "auction_id": "auction",
    "case_id": "case",
    "commitment_id": "commitment",
    "pool_id": "pool",
    "revenue_id": "revenue",
    "license_id": "license",
    "fund_id": "fund",
    "approval_id": "approval",
    "session_id": "session",
    "key_id": "key",
}


def _money(amount: str, kind: str) -> Body:
    return lambda call: {"amount": amount, "reference": call.reference(kind)}


def _listing(call: Call) -> dict[str, Any]:
    return {
        "loan_id": call.ids["loan"],
        "kind": "income_right",
        "mode": "negotiated",
        "share_ppm": 10_000,
        "asking_price": "50000.00",
    }


def _auction(call: Call) -> dict[str, Any]:
    return {
        "lot": {"title": "Authorization matrix lot"},
        "kind": "english",
        "start_price": "1000.00",
        "increment": "10.00",
        "deposit": "100.00",
        "starts_at": call.at(1),
        "ends_at": call.at(2),
    }


def _loan(call: Call) -> dict[str, Any]:
    from tests.api.disposal_support import patent_loan

    return patent_loan(number=f"ZL2031{call.serial:06d}.X")


def _round(call: Call) -> dict[str, Any]:
    return {
        "starts_at": call.at(31),
        "ends_at": call.at(32),
        "increment": "10000.00",
        "deposit": "70000.00",
    }


def _buyout_offer(call: Call) -> dict[str, Any]:
    return {"price": "700000.00", "pool_id": call.ids["agency_pool"], "valid_until": call.at(90)}


def _commitment(call: Call) -> dict[str, Any]:
    return {
        "pool_id": call.ids["agency_pool"],
        "kinds": ["trademark"],
        "price_bps_of_appraisal": 5000,
        "max_price_per_case": "10000.00",
        "budget": "10000.00",
        "valid_until": call.at(170),
    }


def _licence(call: Call) -> dict[str, Any]:
    return {
        "asset_id": call.ids["asset"],
        "kind": "non_exclusive",
        "licensee_name": "Ningbo Cell Works Co., Ltd.",
        "licensee_credit_code": call.credit_code(),
        "territory": "CN",
        "field": "batteries",
        "upfront": "0.00",
        "running_royalty_bps": 300,
        "starts_on": "2031-01-01",
        "ends_on": "2032-12-31",
    }


def _consent(call: Call) -> dict[str, Any]:
    return {
        "kind": "non_exclusive",
        "territory": "CN",
        "field": "batteries",
        "starts_on": "2031-01-01",
        "ends_on": "2032-12-31",
        "licensee_name": "Ningbo Cell Works Co., Ltd.",
        "licensee_credit_code": call.credit_code(),
    }


def _session(call: Call) -> dict[str, Any]:
    return {
        "title": "Authorization matrix session",
        "starts_at": call.at(31),
        "first_lot_ends_at": call.at(32),
        "lots": [{"disposal_ids": [call.ids["spare_case"]], "increment": "10000.00", "deposit": "70000.00"}],
    }


def _fund(call: Call) -> dict[str, Any]:
    return {
        "name": f"Matrix fund {call.serial}",
        "region": "Zhejiang",
        "fund_share_bps": 4000,
        "per_loan_cap": "1000000.00",
    }


P = "/api/v1"
ROWS: tuple[Row, ...] = (
    # participants, keys, funds
    Row(
        "POST",
        f"{P}/participants",
        "-",
        "401 | 201 | 403 | 403 | 403 | 403",
        body=lambda call: {"name": f"Matrix participant {call.serial}", "roles": ["bidder"]},
    ),
    Row("GET", f"{P}/participants", "-", "401 | 200 | 200 | 403 | 403 | 403"),
    Row("GET", f"{P}/participants/me", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/participants/me/statement", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/participants/me/alerts", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/participants/me/keys", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        f"{P}/participants/me/keys",
        "-",
        "401 | 201 | 201 | 201 | 201 | 201",
        body=lambda call: {"name": f"matrix {call.serial}"},
    ),
    Row(
        "DELETE",
        f"{P}/participants/me/keys/{{key_id}}",
        "key",
        "401 | 200/404 | 200/404 | 200/404 | 200/404 | 200/404",
        fresh="key",
    ),
    Row(
        "POST",
        f"{P}/participants/{{participant_id}}/funds",
        "participant",
        "401 | 403 | 201 | 403 | 403 | 403",
        body=_money("10.00", "funds"),
    ),
    Row(
        "POST",
        f"{P}/participants/{{participant_id}}/withdrawals",
        "participant",
        "401 | 403 | 201 | 403 | 403 | 403",
        body=_money("1.00", "withdrawal"),
    ),
    Row(
        "POST",
        f"{P}/participants/{{participant_id}}/suspend",
        "participant",
        "401 | 200 | 403 | 403 | 403 | 403",
        fresh="participant",
    ),
    Row(
        "POST",
        f"{P}/participants/{{participant_id}}/reinstate",
        "participant",
        "401 | 200 | 403 | 403 | 403 | 403",
        fresh="suspended_participant",
    ),
    # loans, collateral, annuities
    Row("POST", f"{P}/loans", "-", "401 | 403 | 403 | 201 | 403 | 403", body=_loan),
    Row(
        "GET",
        f"{P}/loans",
        "-",
        "401 | 200 | 200 | 200 | 200 | 200",
        listed="loan",
        shown_to=("bank",),
        hidden_from=KEYED_ROLES,
    ),
    Row("GET", f"{P}/loans/{{loan_id}}", "loan", "401 | 200 | 200 | 200/404 | 200/404 | 404"),
    Row(
        "PATCH",
        f"{P}/loans/{{loan_id}}/collateral/{{collateral_id}}",
        "loan",
        "401 | 403 | 403 | 200/404 | 403 | 403",
        body=lambda call: {"fee_reduction_bps": 0},
    ),
    Row("GET", f"{P}/loans/{{loan_id}}/annuities", "loan", "401 | 200 | 200 | 200/404 | 200/404 | 404"),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/annuity-escrow",
        "loan",
        "401 | 403 | 201 | 201/404 | 403 | 403",
        body=_money("100.00", "escrow"),
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/annuity-escrow/payout",
        "loan",
        # Only clearing pays an escrow out, and only once the loan's pledges are gone: the world's
        # loans perform, so clearing meets escrow_open.
        "401 | 403 | 409 | 403 | 403 | 403",
        body=lambda call: {"reference": call.reference("escrow-payout")},
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/annuities/{{annuity_id}}/pay",
        "loan",
        "401 | 403 | 403 | 200/404 | 403 | 403",
        fresh="annuity",
        body=lambda call: {},
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/repayments",
        "loan",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        body=lambda call: {
            "principal": "100.00",
            "interest": "10.00",
            "received_on": call.now.date().isoformat(),
        },
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/collateral/{{cid}}/license-consents",
        "loan",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        body=_consent,
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/compensation",
        "loan, fund",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        fresh="loan",
        body=lambda call: {"fund_id": call.ids["fund"]},
    ),
    Row(
        "POST",
        f"{P}/loans/{{loan_id}}/default",
        "loan",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        fresh="loan",
        body=lambda call: {"reason": "three instalments missed", "accrued_interest": "50000.00"},
    ),
    Row(
        "GET",
        f"{P}/collateral/status",
        "-",
        "401 | 200 | 200 | 200 | 200 | 200",
        query="?kind=invention_patent&registry_number=ZL202110000001.X",
    ),
    # listings, offers, trades
    # Anyone may list a share it holds: the bank its 90 %, the bidder the 10 % it bought.
    Row("POST", f"{P}/listings", "loan", "401 | 409 | 409 | 201/409 | 201/409 | 409", body=_listing),
    Row("GET", f"{P}/listings", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/listings/{{listing_id}}", "listing", "401 | 200 | 200 | 200 | 200 | 200"),
    Row(
        "GET",
        f"{P}/listings/{{listing_id}}/offers",
        "listing",
        "401 | 200 | 200 | 200 | 200 | 200",
        listed="offer",
        shown_to=("bank", "bidder"),
        hidden_from=("bank", "bidder", "agency"),
    ),
    Row(
        "POST",
        f"{P}/listings/{{listing_id}}/offers",
        "listing",
        # The clearing and admin roles are not market participants (F15): they never buy.
        "401 | 403 | 403 | 403/201 | 201 | 201",
        body=lambda call: {"price": "50000.00"},
    ),
    Row("POST", f"{P}/listings/{{listing_id}}/close", "listing", "401 | 403 | 403 | 409/403 | 403 | 403"),
    Row(
        "POST",
        f"{P}/offers/{{offer_id}}/accept",
        "offer",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        fresh="offer",
        params={"offer_id": "offer"},
    ),
    Row(
        "GET",
        f"{P}/trades",
        "-",
        "401 | 200 | 200 | 200 | 200 | 200",
        listed="trade",
        shown_to=("bank", "bidder", "clearing", "admin"),
        hidden_from=("bank", "bidder", "agency"),
    ),
    Row("GET", f"{P}/trades/{{trade_id}}", "trade", "401 | 200 | 200 | 200/404 | 200/404 | 404"),
    Row(
        "POST", f"{P}/trades/{{trade_id}}/settle", "trade", "401 | 403 | 200 | 403 | 403 | 403", fresh="trade"
    ),
    # auctions
    Row("POST", f"{P}/auctions", "-", "401 | 201 | 403 | 201 | 403 | 403", body=_auction),
    Row("GET", f"{P}/auctions", "-", "200 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/auctions/{{auction_id}}", "auction", "200 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/auctions/{{auction_id}}/bids", "auction", "200 | 200 | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        f"{P}/auctions/{{auction_id}}/registrations",
        "auction",
        "401 | 403 | 403 | 403 | 201 | 403",
        fresh="auction",
    ),
    Row(
        "POST",
        f"{P}/auctions/{{auction_id}}/bids",
        "auction",
        "401 | 403 | 403 | 403 | 201/403 | 403",
        body=lambda call: {"amount": f"{1000 + 10 * call.serial}.00"},
    ),
    Row(
        "POST",
        f"{P}/auctions/{{auction_id}}/payments",
        "auction",
        "401 | 403 | 403 | 403 | 403 | 403",
        body=lambda call: {},
    ),
    Row(
        "POST",
        f"{P}/auctions/{{auction_id}}/cancel",
        "auction",
        "401 | 200 | 403 | 200/403 | 403 | 403",
        fresh="auction",
        body=lambda call: {"reason": "authorization matrix"},
    ),
    # disposal, sessions, buyouts
    Row(
        "GET",
        f"{P}/disposals",
        "-",
        "401 | 200 | 200 | 200 | 200 | 200",
        listed="case",
        shown_to=("bank", "admin", "clearing"),
        hidden_from=("bank", "bidder", "agency"),
    ),
    Row("GET", f"{P}/disposals/{{case_id}}", "case", "401 | 200 | 200 | 200/404 | 404 | 404"),
    Row(
        "POST",
        f"{P}/disposals/{{case_id}}/costs",
        "case",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        body=lambda call: {"amount": "10.00", "description": "notary"},
    ),
    Row(
        "POST",
        f"{P}/disposals/{{case_id}}/rounds",
        "case",
        "401 | 403 | 403 | 201/403 | 403 | 403",
        fresh="case",
        body=_round,
    ),
    Row(
        "POST",
        f"{P}/disposals/{{case_id}}/take-in-payment",
        "case",
        "401 | 403 | 403 | 409/403 | 403 | 403",
        body=lambda call: {"decision": "accept"},
    ),
    Row(
        "POST",
        f"{P}/disposals/{{case_id}}/surplus-payout",
        "case",
        "401 | 403 | 409 | 403 | 403 | 403",
        body=lambda call: {"reference": call.reference("surplus")},
    ),
    Row(
        "GET",
        f"{P}/disposals/{{case_id}}/buyout-offers",
        "case",
        "401 | 200 | 200 | 200/404 | 404 | 200",
        listed="buyout_offer",
        shown_to=("bank", "agency", "admin", "clearing"),
        hidden_from=("agency",),
    ),
    Row(
        "POST",
        f"{P}/disposals/{{case_id}}/buyout-offers",
        "case, pool",
        "401 | 403 | 403 | 403 | 403 | 201/404",
        body=_buyout_offer,
    ),
    Row(
        "POST",
        f"{P}/buyout-offers/{{offer_id}}/accept",
        "buyout offer",
        "401 | 403 | 403 | 200/403 | 403 | 403",
        fresh="buyout_offer",
        params={"offer_id": "buyout_offer"},
    ),
    Row(
        "POST",
        f"{P}/buyout-offers/{{offer_id}}/withdraw",
        "buyout offer",
        "401 | 403 | 403 | 403 | 403 | 200/403",
        fresh="buyout_offer",
        params={"offer_id": "buyout_offer"},
    ),
    Row("POST", f"{P}/buyout-commitments", "pool", "401 | 403 | 403 | 403 | 403 | 201/404", body=_commitment),
    Row(
        "GET",
        f"{P}/buyout-commitments",
        "-",
        "401 | 200 | 403 | 403 | 403 | 200",
        listed="commitment",
        shown_to=("agency",),
        hidden_from=("agency",),
    ),
    Row(
        "POST",
        f"{P}/buyout-commitments/{{commitment_id}}/withdraw",
        "commitment",
        "401 | 403 | 403 | 403 | 403 | 200/403",
        fresh="commitment",
    ),
    Row(
        "POST",
        f"{P}/sessions",
        "case",
        "401 | 201 | 403 | 403 | 403 | 403",
        fresh="spare_case",
        body=_session,
    ),
    Row("GET", f"{P}/sessions", "-", "200 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/sessions/{{session_id}}", "session", "200 | 200 | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        f"{P}/sessions/{{session_id}}/registrations",
        "session",
        "401 | 403 | 403 | 403 | 201 | 403",
        body=lambda call: {"lot_ids": [call.ids["session_lot"]]},
    ),
    # pools, licences
    Row(
        "POST",
        f"{P}/pools",
        "-",
        "401 | 403 | 403 | 403 | 403 | 201",
        body=lambda call: {"name": f"Matrix pool {call.serial}"},
    ),
    Row(
        "GET",
        f"{P}/pools",
        "-",
        "401 | 200 | 403 | 403 | 403 | 200",
        listed="pool",
        shown_to=("agency", "admin"),
        hidden_from=("agency",),
    ),
    Row("GET", f"{P}/pools/{{pool_id}}", "pool", "401 | 200 | 403 | 403 | 403 | 200/404"),
    Row(
        "POST",
        f"{P}/pools/{{pool_id}}/licenses",
        "pool",
        "401 | 403 | 403 | 403 | 403 | 201/404",
        body=_licence,
    ),
    Row(
        "POST",
        f"{P}/pools/{{pool_id}}/revenues",
        "pool",
        "401 | 403 | 403 | 403 | 403 | 201/404",
        body=lambda call: {
            "amount": "10.00",
            "received_on": "2027-03-01",
            "reference": call.reference("revenue"),
        },
    ),
    Row(
        "GET",
        f"{P}/pools/{{pool_id}}/revenues/{{revenue_id}}/lines",
        "pool",
        "401 | 200 | 403 | 403 | 403 | 200/404",
    ),
    Row("GET", f"{P}/open-licenses", "-", "200 | 200 | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        f"{P}/open-licenses/{{license_id}}/take",
        "licence",
        "401 | 403 | 403 | 201 | 201 | 201",
        body=lambda call: {
            "licensee_name": "Suzhou Anode Materials Co., Ltd.",
            "licensee_credit_code": call.credit_code(),
        },
    ),
    # compensation, approvals, clearing, audit, fees
    Row("POST", f"{P}/compensation-funds", "-", "401 | 201 | 403 | 403 | 403 | 403", body=_fund),
    Row("GET", f"{P}/compensation-funds", "-", "401 | 200 | 200 | 403 | 403 | 403"),
    Row("GET", f"{P}/compensation-funds/{{fund_id}}", "fund", "401 | 200 | 200 | 403 | 403 | 403"),
    Row("GET", f"{P}/compensation-funds/{{fund_id}}/report", "fund", "401 | 200 | 200 | 403 | 403 | 403"),
    Row(
        "POST",
        f"{P}/compensation-funds/{{fund_id}}/funds",
        "fund",
        "401 | 403 | 201 | 403 | 403 | 403",
        body=_money("10.00", "fund"),
    ),
    Row(
        "GET",
        f"{P}/approvals",
        "-",
        "401 | 200 | 200 | 403 | 403 | 403",
        listed="approval",
        shown_to=("admin", "clearing"),
    ),
    Row("GET", f"{P}/approvals/{{approval_id}}", "approval", "401 | 200 | 200 | 403 | 403 | 403"),
    Row(
        "POST",
        f"{P}/approvals/{{approval_id}}/approve",
        "approval",
        "401 | 403 | 403/200 | 403 | 403 | 403",
        fresh="approval",
    ),
    Row(
        "POST",
        f"{P}/approvals/{{approval_id}}/reject",
        "approval",
        "401 | 403 | 200 | 403 | 403 | 403",
        fresh="approval",
        body=lambda call: {"reason": "authorization matrix"},
    ),
    Row(
        "GET",
        f"{P}/clearing/fee-waivers",
        "-",
        "401 | 403 | 200 | 403 | 403 | 403",
        query="?from=2026-01-01&to=2026-12-31",
    ),
    Row("GET", f"{P}/clearing/reconciliation", "-", "401 | 403 | 200 | 403 | 403 | 403"),
    Row("GET", f"{P}/audit/verify", "-", "401 | 200 | 200 | 403 | 403 | 403"),
    Row("GET", f"{P}/fee-policy", "-", "401 | 200 | 200 | 200 | 200 | 200"),
    Row("GET", f"{P}/clock", "-", "200 | 200 | 200 | 200 | 200 | 200"),
)


@dataclass(frozen=True)
class Mixed:
    """World 2's participant on its own resource, naming world 1's in a second path segment or
    the body: `{name}` in the path is world 2's id, `{name@1}` world 1's; `ids` give the body."""

    method: str
    path: str
    role: str
    expected: int
    body: Callable[[Ids, Ids], Any] | None = None


MIXED: tuple[Mixed, ...] = (
    Mixed(
        "PATCH",
        f"{P}/loans/{{loan}}/collateral/{{collateral@1}}",
        "bank",
        404,
        lambda own, other: {"fee_reduction_bps": 0},
    ),
    Mixed("POST", f"{P}/loans/{{loan}}/annuities/{{annuity@1}}/pay", "bank", 404, lambda own, other: {}),
    Mixed(
        "POST",
        f"{P}/loans/{{loan}}/collateral/{{collateral@1}}/license-consents",
        "bank",
        404,
        lambda own, other: _consent(Call(own, datetime.now(UTC), 0)),
    ),
    Mixed(
        "POST",
        f"{P}/auctions",
        "bank",
        403,
        lambda own, other: {
            **_auction(Call(own, datetime.now(UTC), 0)),
            "lot": {"title": "x", "collateral_ids": [other["collateral"]]},
        },
    ),
    Mixed(
        "POST",
        f"{P}/auctions",
        "bank",
        403,
        lambda own, other: {
            **_auction(Call(own, datetime.now(UTC), 0)),
            "lot": {"title": "x", "listing_id": other["listing"]},
        },
    ),
    Mixed(
        "POST",
        f"{P}/pools/{{pool}}/licenses",
        "agency",
        404,
        lambda own, other: _licence(Call({"asset": other["asset"]}, datetime.now(UTC), 7)),
    ),
    Mixed(
        "POST",
        f"{P}/pools/{{pool}}/revenues",
        "agency",
        404,
        lambda own, other: {
            "amount": "1.00",
            "received_on": "2027-03-01",
            "reference": "mixed-1",
            "license_id": other["license"],
        },
    ),
    Mixed("GET", f"{P}/pools/{{pool}}/revenues/{{revenue@1}}/lines", "agency", 404),
    Mixed(
        "POST",
        f"{P}/disposals/{{case}}/buyout-offers",
        "agency",
        404,
        lambda own, other: _buyout_offer(Call({"agency_pool": other["pool"]}, datetime.now(UTC), 0)),
    ),
)
# Not a row: the stream never ends, so it is read by tests/api/test_public_catalogue.py; its
# answers are the auction's (anyone, with or without a key).
UNMATRIXED = {("GET", f"{P}/auctions/{{auction_id}}/events")}


def cell_text(row: Row, role: str) -> str:
    answers = row.expected()
    if role == "anonymous":
        return str(answers[("anonymous", "other")])
    own, other = answers[(role, "own")], answers[(role, "other")]
    return str(own) if own == other else f"{own} / {other}"


def render_table() -> str:
    """The matrix as the README shows it (scripts/authz_table)."""
    lines = [
        "| method and path | resource | " + " | ".join(ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    for row in ROWS:
        path = row.path.removeprefix(P)
        cells = " | ".join(cell_text(row, role) for role in ROLES)
        lines.append(f"| `{row.method} {path}` | {row.resource} | {cells} |")
    return "\n".join(lines) + "\n"
