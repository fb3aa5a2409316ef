"""The bank and agency desks over HTTP on both databases: their figures are the API's to the fen
(a bought-out case's waterfall and compensation lines, annuity coverage, held offers, earn-outs,
revenue by month), a stranger sees none of another's book, other roles get a 403, no session goes
to login, and each table downloads as CSV with the same figures."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text

from app.http.request_id import RequestIdMiddleware
from app.pages.formatting import shanghai_time
from app.pages.i18n import term, waterfall_basis
from tests.api.disposal_support import DisposalDesk
from tests.api.page_support import HTML, JSON, api_key_of, visitor
from tests.api.pool_support import AgencyDesk, commitment_ok
from tests.api.test_compensation import _enrol, _fund
from tests.api.test_compensation import settings as settings  # no seasoning: enrolled, then defaulted
from tests.conftest import Market
from transfer.models.annuities import Alert

pytestmark = pytest.mark.db


def _yuan(api_amount: str) -> str:
    """The API's "1234567.80" as the pages write it: "¥1,234,567.80"."""
    whole, fraction = api_amount.split(".")
    return f"¥{int(whole):,}.{fraction}"


def _fen(api_amount: str) -> int:
    whole, fraction = api_amount.split(".")
    return int(whole) * 100 + int(fraction)


def _by_testid(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>([^<]*)<', html)
    assert found is not None, f"no {testid} on the page"
    return found.group(1).strip()


def _rows(response: httpx.Response) -> list[list[str]]:
    """A desk's CSV as a spreadsheet reads it: UTF-8 behind its byte-order mark."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _bought_out_case(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk, agencies: AgencyDesk
) -> dict[str, Any]:
    """A patent loan with a 10 % holder and a compensation fund, defaulted and bought out at
    700,000.00 with an earn-out, then a royalty of 100,000.00 on 2027-03-01 and 50,000.00 on
    2027-04-15: the case (with its waterfall and compensation lines), the pool and the parties."""
    bank_id, bank = await market.participant(["bank"], name="Desk Creditor Bank")
    holder_id, holder = await market.participant(["bank"], funds="600000.00", name="Desk Holder")
    agency_id, agency = await agencies.agency(funds="3000000.00", name="Desk Agency")
    pool = await agencies.pool(agency, name="Desk battery pool")
    fund = await _fund(client, market, "Desk fund", 4000, "1000000.00", "2000000.00")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, holder)
    assert (await _enrol(client, loan["id"], fund["id"], bank)).status_code == 201
    case = await desk.opened(loan["id"], bank)
    until = (desk.clock() + timedelta(days=3 * 365)).isoformat()
    offer = await agencies.offer_ok(
        case["id"],
        agency,
        pool["id"],
        "700000.00",
        earn_out={"revenue_share_bps": 2000, "cap": "30000.00", "until": until},
    )
    assert (await agencies.accept(offer["id"], bank)).status_code == 200
    for amount, received_on, reference in (
        ("100000.00", "2027-03-01", "royalty-march"),
        ("50000.00", "2027-04-15", "royalty-april"),
    ):
        # A clawback's ledger id carries the instant it is booked (transfer/compensation/clearing.py):
        # two revenues in one frozen instant would collide, so the test clock moves on between them.
        desk.clock.advance(60)
        booked = await client.post(
            f"/api/v1/pools/{pool['id']}/revenues",
            json={"amount": amount, "received_on": received_on, "reference": reference},
            headers=agency,
        )
        assert booked.status_code == 201, booked.text
    return {
        "bank_id": bank_id,
        "bank": bank,
        "holder_id": holder_id,
        "holder": holder,
        "agency_id": agency_id,
        "agency": agency,
        "loan": loan,
        "case": await desk.case(case["id"], bank),
        "pool": pool,
        "offer": offer,
    }


async def test_the_bank_desk_waterfall_and_compensation_equal_the_api_to_the_fen_with_csv(
    app: RequestIdMiddleware,
    client: httpx.AsyncClient,
    market: Market,
    desk: DisposalDesk,
    agencies: AgencyDesk,
) -> None:
    scene = await _bought_out_case(client, market, desk, agencies)
    case = scene["case"]
    api_lines = case["waterfall"]
    assert len(api_lines) >= 4 and case["compensation"], case
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(scene["bank"]))
        page = await browser.page("/desk/bank")
        waterfall_csv = await browser.page("/desk/bank/csv/waterfall")
        compensation_csv = await browser.page("/desk/bank/csv/compensation")
        steps_csv = await browser.page("/desk/bank/csv/steps")

    assert page.status_code == 200
    html = page.text
    # Every line of the API's waterfall, in its order, with its amount as the page writes yuan.
    shown = re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', html, flags=re.DOTALL)
    assert [int(number) for number, _ in shown] == [line["line"] for line in api_lines]
    for (_, row), line in zip(shown, api_lines, strict=True):
        assert _by_testid(row, "waterfall-amount") == _yuan(line["amount"])
        assert line["payee_name"] in row
    total_fen = sum(_fen(line["amount"]) for line in api_lines)
    assert total_fen == _fen(case["proceeds"]["total"]) == 70_000_000
    assert _by_testid(html, f"waterfall-total-{case['id']}") == "¥700,000.00"
    assert _by_testid(html, f"proceeds-{case['id']}") == _yuan(case["proceeds"]["total"])
    # The bars: one per line, each carrying its line's fen.
    chart = html.split(f'data-testid="chart-waterfall-{case["id"]}"', 1)[1].split("</figure>", 1)[0]
    assert [int(v) for v in re.findall(r'data-value-fen="(\d+)"', chart)] == [
        _fen(line["amount"]) for line in api_lines
    ]
    for line in case["compensation"]:
        assert line["fund_name"] in html and _yuan(line["amount"]) in html
    # The CSVs say the same, line by line, in the page's words (Chinese by default).
    rows = _rows(waterfall_csv)
    assert rows[0] == ["处置案件编号", "分配行号", "清偿项目", "收款人编号", "收款人", "金额", "依据"]
    assert [(int(r[1]), r[2], r[3], r[5], r[6]) for r in rows[1:]] == [
        (
            line["line"],
            term("part:" + line["part"], "zh"),
            str(line["payee_id"] or ""),
            line["amount"],
            waterfall_basis(line["rule"], "zh"),
        )
        for line in api_lines
    ]
    compensation = _rows(compensation_csv)[1:]
    assert sorted((r[1], r[2], int(r[3]), r[5]) for r in compensation) == sorted(
        (c["fund_name"], term(c["kind"], "zh"), c["holder_id"], c["amount"]) for c in case["compensation"]
    )
    steps = _rows(steps_csv)[1:]
    assert [(int(r[0]), int(r[1]), r[2], r[10]) for r in steps] == [
        (case["id"], s["number"], term(s["kind"], "zh"), term(s["result"], "zh")) for s in case["steps"]
    ]


async def test_the_bank_desk_shows_loans_collateral_coverage_listings_trades_and_alerts_as_the_api(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Desk Coverage Bank")
    _, buyer = await market.participant(["bank"], funds="600000.00", name="Desk Buyer Bank")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, buyer)
    # One of the loan's patents lapses (its annuity unpaid past the grace): the desk says so.
    item_id = loan["collateral"][0]["id"]
    async with desk.context.database.write_engine.begin() as connection:
        await connection.execute(
            text("UPDATE collateral_items SET state = 'lapsed' WHERE id = :id"), {"id": item_id}
        )
        # And the daily run's alert that the escrow is short (as transfer.annuities.coverage_alerts writes it).
        await connection.execute(
            insert(Alert).values(
                participant_id=bank_id,
                kind="escrow_short",
                loan_id=loan["id"],
                amount_fen=1_234_567,
                due_on=date(2027, 4, 20),
                dedupe_key=f"desk-test:{loan['id']}",
                created_at=desk.clock(),
            )
        )
    api_loan = (await client.get(f"/api/v1/loans/{loan['id']}", headers=bank)).json()
    annuities = (await client.get(f"/api/v1/loans/{loan['id']}/annuities", headers=bank)).json()
    trades = (await client.get("/api/v1/trades", headers=bank)).json()["items"]
    alerts = (await client.get("/api/v1/participants/me/alerts", headers=bank)).json()

    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bank))
        html = (await browser.page("/desk/bank")).text
        english = await browser.http.get("/lang/en?next=/desk/bank", headers=HTML)
        english_html = (await browser.page("/desk/bank")).text
        loans_csv = _rows(await browser.page("/desk/bank/csv/loans"))
        listings_csv = _rows(await browser.page("/desk/bank/csv/listings"))
        trades_csv = _rows(await browser.page("/desk/bank/csv/trades"))
        alerts_csv = _rows(await browser.page("/desk/bank/csv/alerts"))

    assert api_loan["collateral"][0]["state"] == "lapsed"
    assert _by_testid(html, f"collateral-state-{item_id}") == "已失效（欠缴年费）"
    assert english.status_code in (302, 303)
    assert _by_testid(english_html, f"collateral-state-{item_id}") == "Lapsed (annuity unpaid)"
    assert "Bank desk" in english_html and "银行工作台" not in english_html.split("<main", 1)[1]
    ppm = api_loan["ip_share_ppm"]
    whole, rest = divmod(ppm, 10_000)
    fraction = f"{rest:04d}".rstrip("0")
    assert _by_testid(html, f"ip-share-{loan['id']}") == (f"{whole}.{fraction}%" if fraction else f"{whole}%")
    assert _by_testid(html, f"coverage-{loan['id']}") == _yuan(annuities["coverage"])
    assert _by_testid(html, f"escrow-{loan['id']}") == _yuan(annuities["escrow_balance"])
    # The loans CSV: a row per collateral item with the loan's coverage beside it, as the page says it
    # (in English: the browser switched before downloading).
    assert loans_csv[0][:7] == [
        "Loan ID",
        "Borrower",
        "Loan status",
        "Outstanding principal",
        "IP share",
        "Annuity escrow",
        "Annuities not covered",
    ]
    assert [(int(r[0]), r[4], r[6], int(r[7]), r[12]) for r in loans_csv[1:]] == [
        (
            loan["id"],
            _by_testid(html, f"ip-share-{loan['id']}"),
            annuities["coverage"],
            item["id"],
            term(item["state"], "en"),
        )
        for item in api_loan["collateral"]
    ]
    assert loans_csv[1][12] == "Lapsed (annuity unpaid)"
    assert [int(r[1]) for r in listings_csv[1:]] == [loan["id"]]
    assert [(int(r[0]), r[4], r[6]) for r in trades_csv[1:]] == [
        (t["id"], "Seller", t["price"]) for t in trades
    ]
    assert alerts["total"] == 1 and alerts["items"][0]["amount"] == "12345.67"
    assert [(r[1], int(r[2]), r[4], r[5]) for r in alerts_csv[1:]] == [
        ("Escrow short", loan["id"], "12345.67", "2027-04-20")
    ]
    alerts_table = html.split('data-testid="table-alerts"', 1)[1].split("</table>", 1)[0]
    assert "年费托管不足" in alerts_table and "¥12,345.67" in alerts_table
    # The header links to the desks this participant's roles open, and to no other.
    assert 'href="/desk/bank"' in html and 'href="/desk/agency"' not in html


async def test_a_stranger_bank_sees_none_of_another_banks_loans_cases_or_csv_rows(
    app: RequestIdMiddleware,
    client: httpx.AsyncClient,
    market: Market,
    desk: DisposalDesk,
    agencies: AgencyDesk,
) -> None:
    scene = await _bought_out_case(client, market, desk, agencies)
    _, stranger = await market.participant(["bank"], name="Stranger Bank")
    own = await desk.case_on_patent(stranger, "ZL202110000777.X")
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(stranger))
        html = (await browser.page("/desk/bank")).text
        csvs = {
            table: _rows(await browser.page(f"/desk/bank/csv/{table}"))
            for table in ("loans", "steps", "waterfall", "compensation", "listings", "trades", "alerts")
        }
    async with visitor(app) as holder_browser:
        await holder_browser.log_in(api_key_of(scene["holder"]))
        holder_html = (await holder_browser.page("/desk/bank")).text

    others = (scene["loan"]["id"], scene["case"]["id"])
    assert f'data-testid="loan-{others[0]}"' not in html
    assert f'data-testid="case-{others[1]}"' not in html
    assert f'data-testid="case-{own["id"]}"' in html
    assert {int(r[0]) for r in csvs["loans"][1:]} == {own["loan_id"]}
    assert {int(r[0]) for r in csvs["steps"][1:]} <= {own["id"]}
    assert csvs["waterfall"][1:] == [] and csvs["compensation"][1:] == []
    assert csvs["listings"][1:] == [] and csvs["trades"][1:] == []
    # A holder of an income-right share reads the case it shares in, as the API lets it.
    assert f'data-testid="case-{others[1]}"' in holder_html
    assert f'data-testid="loan-{others[0]}"' not in holder_html  # the loan is the creditor's book


async def test_the_desks_refuse_other_roles_send_a_visitor_to_login_and_name_an_unknown_table(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    _, bidder = await market.participant(["bidder"], name="Desk Bidder")
    _, bank = await market.participant(["bank"], name="Desk Only Bank")
    async with visitor(app) as anonymous:
        to_login = await anonymous.page("/desk/bank?loans_page=2")
        csv_to_login = await anonymous.page("/desk/agency/csv/offers")
    async with visitor(app) as browser, visitor(app) as banker:
        await browser.log_in(api_key_of(bidder))
        await banker.log_in(api_key_of(bank))
        refused = await browser.page("/desk/bank")
        refused_csv = await browser.page("/desk/bank/csv/waterfall")
        refused_agency = await banker.page("/desk/agency")
        refused_agency_csv = await banker.http.get("/desk/agency/csv/assets", headers=JSON)
        unknown = await banker.http.get("/desk/bank/csv/secrets", headers=JSON)
        bad_page = await banker.http.get("/desk/bank?cases_page=0", headers=JSON)
        huge_page = await banker.http.get(f"/desk/bank?loans_page={2**70}", headers=JSON)

    assert to_login.status_code == 303
    assert to_login.headers["location"] == "/login?next=%2Fdesk%2Fbank%3Floans_page%3D2"
    assert csv_to_login.status_code == 303 and csv_to_login.headers["location"].startswith("/login?next=")
    assert refused.status_code == 403 and "bank" in refused.text
    assert refused_csv.status_code == 403
    assert refused_agency.status_code == 403 and "agency" in refused_agency.text
    assert refused_agency_csv.status_code == 403
    assert unknown.status_code == 404 and unknown.json()["code"] == "table_not_found"
    assert bad_page.status_code == 422 and bad_page.json()["errors"][0]["field"] == "cases_page"
    assert huge_page.status_code == 422 and huge_page.json()["errors"][0]["field"] == "loans_page"


async def test_the_agency_desk_holds_earn_outs_and_revenue_by_month_equal_the_api_with_csv(
    app: RequestIdMiddleware,
    client: httpx.AsyncClient,
    market: Market,
    desk: DisposalDesk,
    agencies: AgencyDesk,
) -> None:
    scene = await _bought_out_case(client, market, desk, agencies)
    agency, pool_id = scene["agency"], scene["pool"]["id"]
    # A live offer on another case holds its price; the accepted one holds nothing any more.
    _, other_bank = await market.participant(["bank"], name="Desk Other Creditor")
    other = await desk.case_on_patent(other_bank, "ZL202110000888.X")
    live = await agencies.offer_ok(other["id"], agency, pool_id, "750000.00")
    # Trademarks only, so the commitment makes no automatic offer on the patent cases here.
    standing = await commitment_ok(agencies, agency, pool_id, "400000.00", kinds=["trademark"])
    view = await agencies.pool_view(pool_id, agency)
    api_offers = {o["id"]: o for o in await agencies.offers(other["id"], agency)}
    api_offers.update({o["id"]: o for o in await agencies.offers(scene["case"]["id"], agency)})
    commitments = (await client.get("/api/v1/buyout-commitments", headers=agency)).json()["items"]
    _, stranger_agency = await agencies.agency(name="Stranger Agency")

    async with visitor(app) as browser:
        await browser.log_in(api_key_of(agency))
        html = (await browser.page("/desk/agency")).text
        offers_csv = _rows(await browser.page("/desk/agency/csv/offers"))
        commitments_csv = _rows(await browser.page("/desk/agency/csv/commitments"))
        assets_csv = _rows(await browser.page("/desk/agency/csv/assets"))
        revenue_csv = _rows(await browser.page("/desk/agency/csv/revenue"))
        earn_outs_csv = _rows(await browser.page("/desk/agency/csv/earn-outs"))
        licences_csv = _rows(await browser.page("/desk/agency/csv/licences"))
    async with visitor(app) as stranger:
        await stranger.log_in(api_key_of(stranger_agency))
        stranger_html = (await stranger.page("/desk/agency")).text
        stranger_assets = _rows(await stranger.page("/desk/agency/csv/assets"))

    # Holds: what the ledger holds for each offer and the commitment, as the API's figures say.
    assert _by_testid(html, f"offer-held-{live['id']}") == _yuan(api_offers[live["id"]]["price"])
    assert api_offers[scene["offer"]["id"]]["state"] == "accepted"
    assert _by_testid(html, f"offer-held-{scene['offer']['id']}") == "¥0.00"
    api_commitment = next(c for c in commitments if c["id"] == standing["id"])
    assert _by_testid(html, f"commitment-held-{standing['id']}") == _yuan(api_commitment["unheld"])
    held_by_id = {int(r[0]): r[6] for r in offers_csv[1:]}
    assert held_by_id == {live["id"]: "750000.00", scene["offer"]["id"]: "0.00"}
    assert [(int(r[0]), r[5], r[10]) for r in commitments_csv[1:]] == [
        (standing["id"], api_commitment["budget"], api_commitment["unheld"])
    ]
    # Earn-out progress per asset: paid of cap, as the pool's view says (20 % of 150,000.00, capped).
    asset = next(a for a in view["assets"] if a["earn_out"] is not None)
    assert (asset["earn_out"]["paid"], asset["earn_out"]["cap"]) == ("30000.00", "30000.00")
    assert _by_testid(html, f"earn-out-paid-{asset['id']}") == _yuan(asset["earn_out"]["paid"])
    assert _by_testid(html, f"earn-out-cap-{asset['id']}") == _yuan(asset["earn_out"]["cap"])
    assert '<progress value="3000000" max="3000000"' in html
    assert [(int(r[1]), r[3], r[4], r[5], r[6]) for r in earn_outs_csv[1:]] == [
        (
            asset["id"],
            "20%",
            asset["earn_out"]["paid"],
            asset["earn_out"]["cap"],
            shanghai_time(asset["earn_out"]["until"]),
        )
    ]
    # Basis points as the page writes them, kinds and states by their names, times in Shanghai.
    accepted = next(r for r in offers_csv[1:] if int(r[0]) == scene["offer"]["id"])
    assert (accepted[5], accepted[8]) == ("已接受", "20%")
    assert accepted[4] == shanghai_time(api_offers[scene["offer"]["id"]]["valid_until"])
    assert [(r[2], r[3], r[12]) for r in commitments_csv[1:]] == [("商标", "75%", "有效")]
    # Revenue by month: the API's revenues summed per calendar month, in the table, the bars and the CSV.
    by_month: dict[str, int] = defaultdict(int)
    for booked in view["revenues"]:
        by_month[booked["received_on"][:7]] += _fen(booked["amount"])
    assert dict(by_month) == {"2027-03": 10_000_000, "2027-04": 5_000_000}
    table = html.split(f'data-testid="revenue-{pool_id}"', 1)[1].split("</table>", 1)[0]
    shown = dict(
        re.findall(r'data-month="([\d-]+)"><th scope="row">[\d-]+</th><td class="num">([^<]+)<', table)
    )
    assert shown == {month: f"¥{fen // 100:,}.{fen % 100:02d}" for month, fen in by_month.items()}
    chart = html.split(f'data-testid="chart-revenue-{pool_id}"', 1)[1].split("</figure>", 1)[0]
    # The bars run oldest month first (the API lists revenues newest first).
    assert [int(v) for v in re.findall(r'data-value-fen="(\d+)"', chart)] == [
        by_month[month] for month in sorted(by_month)
    ]
    assert {r[1]: _fen(r[2]) for r in revenue_csv[1:]} == dict(by_month)
    assert [int(r[1]) for r in assets_csv[1:]] == [a["id"] for a in view["assets"]]
    assert [r[6] for r in assets_csv[1:]] == [a["acquisition_price"] for a in view["assets"]]
    assert len(licences_csv) - 1 == len(view["licenses"])
    # Another agency sees none of it.
    assert f'data-testid="pool-{pool_id}"' not in stranger_html
    assert f'data-testid="offer-held-{live["id"]}"' not in stranger_html
    assert stranger_assets[1:] == []


async def test_a_long_table_pages_keeps_the_other_tables_page_and_its_csv_holds_every_row(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    bank_id, bank = await market.participant(["bank"], name="Desk Many Alerts Bank")
    loan = await desk.loan(bank)
    async with desk.context.database.write_engine.begin() as connection:
        await connection.execute(
            insert(Alert),
            [
                {
                    "participant_id": bank_id,
                    "kind": "annuity_in_grace",
                    "loan_id": loan["id"],
                    "amount_fen": 100 * number,
                    "due_on": date(2027, 4, 20),
                    "dedupe_key": f"desk-page-test:{number}",
                    "created_at": desk.clock(),
                }
                for number in range(1, 31)
            ],
        )
    api = (await client.get("/api/v1/participants/me/alerts?limit=200", headers=bank)).json()
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bank))
        first = (await browser.page("/desk/bank?loans_page=1")).text
        second = (await browser.page("/desk/bank?loans_page=1&alerts_page=2")).text
        every = _rows(await browser.page("/desk/bank/csv/alerts"))

    def alert_rows(html: str) -> int:
        return (
            html.split('data-testid="table-alerts"', 1)[1].split("</table>", 1)[0].count('<tr class="alert">')
        )

    assert api["total"] == 30
    assert alert_rows(first) == 25 and alert_rows(second) == 5
    assert "第 1/2 页，共 30 条" in first and "第 2/2 页，共 30 条" in second
    # The next page's link keeps the other tables where they are.
    assert 'href="/desk/bank?loans_page=1&amp;alerts_page=2" rel="next"' in first
    assert 'href="/desk/bank?loans_page=1&amp;alerts_page=1" rel="prev"' in second
    assert [r[4] for r in every[1:]] == [a["amount"] for a in api["items"]]
