"""The authorization matrix (issue 17): every /api/v1 operation has a row in tests/api/authz_matrix.py,
and every cell of every row answers as the row says, on both databases: each role on its own
resource and on another participant's. The README's table is the rendered matrix."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from app.main import create_app
from app.settings import load_settings
from tests.api import authz_matrix
from tests.api.authz_matrix import KEYED_ROLES, MIXED, PARAMETER_IDS, ROWS, UNMATRIXED, Call, Mixed, Row
from tests.api.disposal_support import DisposalDesk, patent_loan
from tests.api.market_support import negotiated_trade, post_ok
from tests.api.pool_support import AgencyDesk, bought_asset
from tests.conftest import FakeClock, Market

IGNORED_METHODS = {"OPTIONS", "HEAD"}
README_START = "<!-- authz-matrix:start -->"
README_END = "<!-- authz-matrix:end -->"


def _api_operations() -> set[tuple[str, str]]:
    """Every method and path of the route table under /api/v1 (the app is built, never started)."""
    app = create_app(load_settings({}, database_url="sqlite:///unused-authz.db", scheduler_enabled=False))
    operations: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format.startswith("/api/v1"):
            operations |= {(method, route.path_format) for method in route.methods - IGNORED_METHODS}
    return operations


def test_every_api_operation_has_exactly_one_row_of_the_matrix() -> None:
    rows = [(row.method, row.path) for row in ROWS]
    assert len(rows) == len(set(rows)), "a route has two rows"
    operations = _api_operations()
    assert sorted(operations - set(rows) - UNMATRIXED) == [], (
        "routes without a row in tests/api/authz_matrix.py"
    )
    assert sorted(set(rows) - operations) == [], "rows for routes that do not exist"
    for row in ROWS:
        row.expected()  # every cells string parses, one group per role


def test_the_readme_shows_the_matrix_as_rendered(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text()
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    assert readme[start:end].strip() == authz_matrix.render_table().strip(), "run scripts/authz_table --write"


class World:
    """One participant per role and the resources they hold (tests/api/authz_matrix.py)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.people: dict[str, tuple[int, dict[str, str]]] = {}
        self.ids: dict[str, Any] = {}


class Matrix:
    def __init__(self, http: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk):
        self.http = http
        self.market = market
        self.desk = desk
        self.agencies = agencies
        self.clock: FakeClock = desk.clock
        self.serial = itertools.count(1)
        self.worlds = (World(1), World(2))

    def call(self, ids: dict[str, Any]) -> Call:
        return Call(ids, self.clock(), next(self.serial))

    def number(self) -> str:
        return f"ZL2030{next(self.serial):06d}.X"

    async def loan(self, world: World) -> dict[str, Any]:
        bank = world.people["bank"][1]
        return dict(await post_ok(self.http, "/api/v1/loans", patent_loan(number=self.number()), bank))

    async def case(self, world: World) -> dict[str, Any]:
        return await self.desk.case_on_patent(world.people["bank"][1], self.number())

    async def build(self, world: World) -> None:
        n = world.number
        funds = {"bank": "60000000.00", "bidder": "3000000.00", "agency": "30000000.00"}
        for role in KEYED_ROLES:
            extra = {"qualified_investor": True} if role == "bidder" else {}
            world.people[role] = await self.market.participant(
                [role], funds=funds.get(role), name=f"{role} of world {n}", **extra
            )
        bank, bidder, agency = (world.people[r][1] for r in ("bank", "bidder", "agency"))
        ids = world.ids
        ids["bank_id"] = world.people["bank"][0]
        loan = await self.loan(world)
        ids["loan"], ids["collateral"] = loan["id"], loan["collateral"][0]["id"]
        annuities = (await self.http.get(f"/api/v1/loans/{loan['id']}/annuities", headers=bank)).json()
        ids["annuity"] = annuities["patents"][0]["annuities"][0]["id"]
        trade = await negotiated_trade(self.http, loan["id"], bank, bidder)
        clearing = world.people["clearing"][1]
        await post_ok(self.http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, 200)
        ids["trade"] = trade["id"]
        listing = await post_ok(self.http, "/api/v1/listings", authz_matrix._listing(self.call(ids)), bank)
        ids["listing"] = listing["id"]
        offer = await post_ok(
            self.http, f"/api/v1/listings/{listing['id']}/offers", {"price": "50000.00"}, bidder
        )
        ids["offer"] = offer["id"]
        # Open once the clock moves a minute on, before the rows run.
        lot = {**authz_matrix._auction(self.call(ids)), "starts_at": self.call(ids).at(10 / 86_400)}
        auction = await post_ok(self.http, "/api/v1/auctions", lot, bank)
        ids["auction"] = auction["id"]
        await post_ok(self.http, f"/api/v1/auctions/{auction['id']}/registrations", None, bidder)
        pool = await self.agencies.pool(agency, name=f"Pool of world {n}")
        ids["pool"] = ids["agency_pool"] = pool["id"]
        case = await self.case(world)
        ids["case"] = case["id"]
        ids["buyout_offer"] = (await self.agencies.offer_ok(case["id"], agency, pool["id"], "700000.00"))[
            "id"
        ]
        asset = await bought_asset(self.agencies, bank, agency, pool["id"], self.number())
        ids["asset"] = asset["id"]
        revenue = {"amount": "1000.00", "received_on": "2027-03-01", "reference": f"world-{n}-revenue"}
        ids["revenue"] = (await post_ok(self.http, f"/api/v1/pools/{pool['id']}/revenues", revenue, agency))[
            "id"
        ]
        licence = {
            "asset_id": asset["id"],
            "kind": "open",
            "territory": "CN",
            "field": "batteries",
            "upfront": "0.00",
            "running_royalty_bps": 300,
            "starts_on": "2027-01-01",
            "ends_on": "2029-12-31",
        }
        ids["license"] = (await post_ok(self.http, f"/api/v1/pools/{pool['id']}/licenses", licence, agency))[
            "id"
        ]
        commitment = authz_matrix._commitment(self.call(ids))
        ids["commitment"] = (await post_ok(self.http, "/api/v1/buyout-commitments", commitment, agency))["id"]
        admin = world.people["admin"][1]
        fund = authz_matrix._fund(self.call(ids))
        ids["fund"] = (await post_ok(self.http, "/api/v1/compensation-funds", fund, admin))["id"]
        ids["approval"] = await self.approval(world)
        ids["spare_case"] = (await self.case(world))["id"]
        session = await post_ok(self.http, "/api/v1/sessions", authz_matrix._session(self.call(ids)), admin)
        ids["session"], ids["session_lot"] = session["id"], session["lots"][0]["lot_id"]

    async def approval(self, world: World) -> int:
        body = {"amount": "1000001.00", "reference": f"AUTHZ-approval-{next(self.serial)}"}
        path = f"/api/v1/participants/{world.ids['bank_id']}/withdrawals"
        answer = await post_ok(self.http, path, body, world.people["clearing"][1])
        assert answer["status"] == "awaiting_approval", answer
        return int(answer["approval_id"])

    async def fresh(self, kind: str, role: str) -> dict[str, Any]:
        """A new resource of world 1 for one cell of a row that consumes it."""
        world = self.worlds[0]
        people = world.people
        if kind == "key":
            holder = people["bank" if role == "anonymous" else role][1]
            key = await post_ok(
                self.http, "/api/v1/participants/me/keys", {"name": f"k{next(self.serial)}"}, holder
            )
            return {"key": key["id"]}
        if kind in ("participant", "suspended_participant"):
            made, _ = await self.market.participant(["bidder"])
            if kind == "suspended_participant":
                await post_ok(self.http, f"/api/v1/participants/{made}/suspend", None, self.market.admin, 200)
            return {"bank_id": made}
        if kind == "loan":
            loan = await self.loan(world)
            return {"loan": loan["id"], "collateral": loan["collateral"][0]["id"]}
        if kind == "annuity":
            loan = await self.loan(world)
            view = (
                await self.http.get(f"/api/v1/loans/{loan['id']}/annuities", headers=people["bank"][1])
            ).json()
            return {"loan": loan["id"], "annuity": view["patents"][0]["annuities"][0]["id"]}
        if kind == "offer":
            loan = await self.loan(world)
            listing = await post_ok(
                self.http,
                "/api/v1/listings",
                authz_matrix._listing(self.call({"loan": loan["id"]})),
                people["bank"][1],
            )
            path = f"/api/v1/listings/{listing['id']}/offers"
            return {
                "offer": (await post_ok(self.http, path, {"price": "50000.00"}, people["bidder"][1]))["id"]
            }
        if kind == "trade":
            loan = await self.loan(world)
            trade = await negotiated_trade(self.http, loan["id"], people["bank"][1], people["bidder"][1])
            return {"trade": trade["id"]}
        if kind == "auction":
            auction = authz_matrix._auction(self.call(world.ids))
            return {
                "auction": (await post_ok(self.http, "/api/v1/auctions", auction, people["bank"][1]))["id"]
            }
        if kind in ("case", "spare_case"):
            return {kind: (await self.case(world))["id"]}
        if kind == "buyout_offer":
            case = await self.case(world)
            offer = await self.agencies.offer_ok(
                case["id"], people["agency"][1], world.ids["pool"], "700000.00"
            )
            return {"buyout_offer": offer["id"]}
        if kind == "commitment":
            body = authz_matrix._commitment(self.call(world.ids))
            return {
                "commitment": (
                    await post_ok(self.http, "/api/v1/buyout-commitments", body, people["agency"][1])
                )["id"]
            }
        if kind == "approval":
            return {"approval": await self.approval(world)}
        raise AssertionError(f"no fresh {kind}")

    async def answer(self, row: Row, role: str, side: str) -> httpx.Response:
        ids = dict(self.worlds[0].ids)
        if row.fresh is not None:
            ids.update(await self.fresh(row.fresh, role))
        values = {
            name: ids[row.params.get(name, PARAMETER_IDS.get(name, name))] for name in _parameters(row.path)
        }
        url = row.path.format(**values) + row.query
        caller = self.worlds[0 if side == "own" else 1]
        headers = {} if role == "anonymous" else caller.people[role][1]
        body = None if row.body is None else row.body(self.call(ids))
        return await self.http.request(row.method, url, json=body, headers=headers)

    async def mixed(self, mixed: Mixed) -> httpx.Response:
        theirs, own = self.worlds[0].ids, self.worlds[1].ids
        values = {
            name: theirs[name[:-2]] if name.endswith("@1") else own[name] for name in _parameters(mixed.path)
        }
        url = mixed.path.format(**values)
        headers = self.worlds[1].people[mixed.role][1]
        body = None if mixed.body is None else mixed.body(own, theirs)
        return await self.http.request(mixed.method, url, json=body, headers=headers)


def _parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _listing_mistakes(
    row: Row, role: str, side: str, response: httpx.Response, ids: dict[str, Any]
) -> list[str]:
    """A list shows world 1's item to its own roles and hides it from the strangers."""
    assert row.listed is not None
    document = response.json()
    listed = [item["id"] for item in (document["items"] if isinstance(document, dict) else document)]
    wanted = ids[row.listed]
    if side == "own" and role in row.shown_to and wanted not in listed:
        return [f"{row.method} {row.path}: {role}'s own list misses its {row.listed} {wanted}: {listed}"]
    if side == "other" and role in row.hidden_from and wanted in listed:
        return [f"{row.method} {row.path}: a stranger {role} sees world 1's {row.listed} {wanted}"]
    return []


def _observed_cells(observed: dict[tuple[str, str], int]) -> str:
    groups = [str(observed[("anonymous", "other")])]
    for role in KEYED_ROLES:
        own, other = observed[(role, "own")], observed[(role, "other")]
        groups.append(str(own) if own == other else f"{own}/{other}")
    return " | ".join(groups)


@pytest.mark.db
async def test_every_cell_of_the_matrix_answers_as_it_says(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> None:
    matrix = Matrix(client, market, desk, agencies)
    for world in matrix.worlds:
        await matrix.build(world)
    desk.clock.advance(60)  # the worlds' auctions are open
    wrong: list[str] = []
    for row in ROWS:
        observed: dict[tuple[str, str], int] = {}
        bodies: dict[tuple[str, str], str] = {}
        cells = [("anonymous", "other")] + [(role, side) for role in KEYED_ROLES for side in ("other", "own")]
        for role, side in cells:
            response = await matrix.answer(row, role, side)
            observed[(role, side)] = response.status_code
            bodies[(role, side)] = response.text[:300]
            assert response.status_code < 500, (row.method, row.path, role, side, response.text)
            if row.listed is not None and response.status_code == 200:
                wrong.extend(_listing_mistakes(row, role, side, response, matrix.worlds[0].ids))
        expected = row.expected()
        if observed != expected:
            differing = {cell: bodies[cell] for cell in expected if observed[cell] != expected[cell]}
            wrong.append(f"{row.method} {row.path}: observed {_observed_cells(observed)!r}; {differing}")
    for mixed in MIXED:
        response = await matrix.mixed(mixed)
        if response.status_code != mixed.expected:
            wrong.append(
                f"{mixed.method} {mixed.path} ({mixed.role}): {response.status_code} {response.text[:300]}"
            )
    assert wrong == [], "\n".join(wrong)
