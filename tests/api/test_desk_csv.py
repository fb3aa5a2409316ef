"""The desks' CSV downloads as a bank or clearing clerk opens them in Excel or WPS on a Chinese
Windows, on both databases: UTF-8 behind a byte-order mark with one charset, times as the page shows
them (Asia/Shanghai, to the second, with the offset), headers and labels in the page's language,
shares as percentages, no cell a formula (a plain negative number left a number), a file cut at the
row cap says so on its last line, a clean reconciliation day says it is clean; and the JSON API's
CSV, which machines read, stays as it was."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import insert

from app.http.clearing.controller import CSV_HEADER
from app.http.request_id import RequestIdMiddleware
from app.pages import desk_access
from app.pages.desk_access import spreadsheet_cell
from tests.api.auction_support import AuctionHouse
from tests.api.disposal_support import DisposalDesk, patent_loan
from tests.api.market_support import negotiated_trade, register_loan
from tests.api.page_support import HTML, api_key_of, visitor
from transfer.models.annuities import Alert

BOM = b"\xef\xbb\xbf"
FORMULA = '=HYPERLINK("http://x","y")'
# The review's instant: 21:50:34.047306 UTC on 5 December is 05:50:34 on 6 December in Shanghai.
KNOWN_INSTANT = datetime(2026, 12, 5, 21, 50, 34, 47306, tzinfo=UTC)
KNOWN_SHANGHAI = "2026-12-06 05:50:34 +08:00"


def spreadsheet_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _alerts(desk: DisposalDesk, bank_id: int, loan_id: int, amounts_fen: list[int]) -> None:
    """Alerts as the daily run writes them, raised at the known instant."""
    async with desk.context.database.write_engine.begin() as connection:
        await connection.execute(
            insert(Alert),
            [
                {
                    "participant_id": bank_id,
                    "kind": "escrow_short",
                    "loan_id": loan_id,
                    "amount_fen": amount_fen,
                    "due_on": date(2027, 4, 20),
                    "dedupe_key": f"desk-csv-test:{loan_id}:{number}",
                    "created_at": KNOWN_INSTANT,
                }
                for number, amount_fen in enumerate(amounts_fen)
            ],
        )


def test_a_formula_gets_a_leading_quote_and_a_plain_number_stays_a_number() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_cell(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_cell(FORMULA) == "'" + FORMULA
    for number in ("-100.00", "-3", "0.00", "830630.00", "62.5%", "2026-12-06 05:50:34 +08:00", ""):
        assert spreadsheet_cell(number) == number
    assert spreadsheet_cell("-1e5") == "'-1e5"  # not a number as the desks write one


@pytest.mark.db
async def test_a_bank_csv_has_a_bom_one_charset_shanghai_times_percentages_and_the_pages_labels(
    app: RequestIdMiddleware, desk: DisposalDesk
) -> None:
    desk.clock.set(KNOWN_INSTANT)
    bank_id, bank = await desk.market.participant(["bank"], name="CSV Bank 丝路")
    _, buyer = await desk.market.participant(["bank"], funds="600000.00", name="CSV Buyer")
    loan = await desk.loan(bank)
    await desk.sell_share(loan["id"], bank, buyer)
    await _alerts(desk, bank_id, loan["id"], [1_234_567, -10_000])

    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bank))
        zh_alerts = await browser.page("/desk/bank/csv/alerts")
        zh_listings = spreadsheet_rows(await browser.page("/desk/bank/csv/listings"))
        zh_trades = spreadsheet_rows(await browser.page("/desk/bank/csv/trades"))
        zh_loans = spreadsheet_rows(await browser.page("/desk/bank/csv/loans"))
        await browser.http.get("/lang/en?next=/desk/bank", headers=HTML)
        en_alerts = spreadsheet_rows(await browser.page("/desk/bank/csv/alerts"))
        en_listings = spreadsheet_rows(await browser.page("/desk/bank/csv/listings"))

    alerts = spreadsheet_rows(zh_alerts)
    assert alerts[0] == ["提醒编号", "提醒", "贷款编号", "年费编号", "金额", "到期日", "提醒时间"]
    assert en_alerts[0] == ["Alert ID", "Alert", "Loan ID", "Annuity ID", "Amount", "Due on", "Raised at"]
    # The kind as the page names it, the amount a plain number (a negative one untouched), the date
    # as YYYY-MM-DD and the instant in Shanghai, to the second.
    assert sorted((r[1], r[4], r[5], r[6]) for r in alerts[1:]) == [
        ("年费托管不足", "-100.00", "2027-04-20", KNOWN_SHANGHAI),
        ("年费托管不足", "12345.67", "2027-04-20", KNOWN_SHANGHAI),
    ]
    assert {r[1] for r in en_alerts[1:]} == {"Escrow short"}
    assert b",-100.00," in zh_alerts.content and b"'-100.00" not in zh_alerts.content
    # A listing of 10 % of the income right, made at the known instant.
    assert zh_listings[0] == [
        "挂牌编号",
        "贷款编号",
        "转让方式",
        "交易方式",
        "份额",
        "挂牌价",
        "状态",
        "创建时间",
    ]
    assert [(r[2], r[3], r[4], r[6], r[7]) for r in zh_listings[1:]] == [
        ("收益权转让", "协议转让", "10%", "已成交", KNOWN_SHANGHAI)
    ]
    assert [(r[2], r[3], r[4]) for r in en_listings[1:]] == [("Income right", "Negotiated", "10%")]
    # The trade: the seller's side, its Shanghai trade date beside its settlement instant.
    assert [(r[4], r[5], r[7], r[8], r[9]) for r in zh_trades[1:]] == [
        ("卖方", "10%", "2026-12-06", "已分配", KNOWN_SHANGHAI)
    ]
    # The loan's IP share as the page writes it, its patent by the page's kind name.
    assert [(r[4], r[8]) for r in zh_loans[1:]] == [("100%", "发明专利")]


@pytest.mark.db
async def test_a_formula_typed_into_a_borrower_name_or_a_title_is_written_as_text(
    app: RequestIdMiddleware, desk: DisposalDesk
) -> None:
    _, bank = await desk.market.participant(["bank"], name="CSV Formula Bank")
    loan = await desk.loan(bank, borrower_name=FORMULA)
    patent = patent_loan()["collateral"][0]
    retitled = await desk.loan(
        bank, collateral=[{**patent, "registry_number": "ZL202110000002.X", "title": "@SUM(A1:A9)"}]
    )
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bank))
        response = await browser.page("/desk/bank/csv/loans")

    rows = spreadsheet_rows(response)
    by_loan = {int(r[0]): r for r in rows[1:]}
    assert by_loan[loan["id"]][1] == "'" + FORMULA
    assert by_loan[retitled["id"]][10] == "'@SUM(A1:A9)"
    # The cell is quoted as CSV quotes it; no line starts a formula.
    assert b'"\'=HYPERLINK(""http://x"",""y"")"' in response.content
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.db
async def test_a_csv_cut_at_the_row_cap_ends_with_a_line_saying_how_many_rows_it_holds(
    app: RequestIdMiddleware, desk: DisposalDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank_id, bank = await desk.market.participant(["bank"], name="CSV Capped Bank")
    loan = await desk.loan(bank)
    await _alerts(desk, bank_id, loan["id"], [100 * n for n in range(1, 6)])
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bank))
        monkeypatch.setattr(desk_access, "MAX_CSV_ROWS", 3)
        cut = spreadsheet_rows(await browser.page("/desk/bank/csv/alerts"))
        await browser.http.get("/lang/en?next=/desk/bank", headers=HTML)
        cut_en = spreadsheet_rows(await browser.page("/desk/bank/csv/alerts"))
        monkeypatch.setattr(desk_access, "MAX_CSV_ROWS", 5)
        whole = spreadsheet_rows(await browser.page("/desk/bank/csv/alerts"))

    assert len(cut) == 1 + 3 + 1
    assert cut[-1] == ["本文件不完整：超过行数上限，仅包含前 3 行"]
    assert cut_en[-1] == [
        "This file is incomplete: the table passed the row limit; only its first 3 rows are here"
    ]
    # A table of exactly the cap is whole: no such line.
    assert len(whole) == 1 + 5 and whole[-1][1] == "Escrow short"


async def _two_trades(house: AuctionHouse) -> dict[str, str]:
    """Two trades on 2026-06-01 (IP pledge, waived) and 2026-07-02 (no IP, charged), the first sold
    by a bank whose name is a formula: the clearing participant."""
    for instant, kind, seller_name in (
        (datetime(2026, 6, 1, 2, 0, tzinfo=UTC), "invention_patent", FORMULA),
        (datetime(2026, 7, 2, 2, 0, tzinfo=UTC), "real_estate", "CSV Estate Bank"),
    ):
        house.clock.set(instant)
        _, bank = await house.market.participant(["bank"], name=seller_name)
        _, buyer = await house.market.participant(["bank"], name=f"CSV buyer {kind}")
        collateral = [
            {
                "kind": kind,
                "registry_number": f"REG-CSV-{kind}",
                "title": "Pledged right",
                "right_holder": "Borrower Co.",
                "appraisal": "900000.00",
                "appraised_on": "2024-12-01",
                **({"filed_on": "2020-06-15"} if kind.endswith("_patent") else {}),
            }
        ]
        loan = await register_loan(house.http, bank, collateral=collateral)
        await negotiated_trade(house.http, loan["id"], bank, buyer)
    return await house.market.clearing()


@pytest.mark.db
async def test_the_clearing_csvs_are_localized_guarded_and_a_clean_day_says_so(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    clearing = await _two_trades(house)
    period = "from=2026-05-01&to=2026-07-31"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(clearing))
        by_institution = spreadsheet_rows(await browser.page(f"/desk/clearing/by-institution.csv?{period}"))
        lines = spreadsheet_rows(await browser.page(f"/desk/clearing/fee-lines.csv?{period}"))
        clean_zh = spreadsheet_rows(await browser.page("/desk/clearing/reconciliation.csv?date=2026-05-01"))
        await browser.http.get("/lang/en?next=/desk/clearing", headers=HTML)
        clean_en = spreadsheet_rows(await browser.page("/desk/clearing/reconciliation.csv?date=2026-05-01"))
        by_month_en = spreadsheet_rows(await browser.page(f"/desk/clearing/by-month.csv?{period}"))

    assert by_institution[0] == ["机构", "应收", "减免（免收）", "实收"]
    assert "'" + FORMULA in {r[0] for r in by_institution[1:]}
    assert by_month_en[0] == ["Month", "Gross", "Waived", "Charged"]
    assert lines[0][:4] == ["费用行编号", "成交编号", "成交日期", "转让方式"]
    waived = [r for r in lines[1:] if r[2] == "2026-06-01"]
    charged = [r for r in lines[1:] if r[2] == "2026-07-02"]
    assert waived and charged
    assert {(r[3], r[4], r[12]) for r in waived} == {
        ("收益权转让", "是", "知识产权质押免收（金发〔2025〕10号）")
    }
    assert {(r[4], r[12]) for r in charged} == {("否", "按收费标准")}
    assert {r[7] for r in lines[1:]} <= {"卖方", "买方"} and {r[6] for r in lines[1:]} <= {
        "登记费",
        "挂牌费",
        "交易手续费",
    }
    assert clean_zh == [
        ["日期", "差异类型", "差异代码", "对象", "说明"],
        ["2026-05-01", "无差异", "", "", ""],
    ]
    assert clean_en[1] == ["2026-05-01", "Clean: no breaks", "", "", ""]


@pytest.mark.db
async def test_the_api_fee_waiver_csv_is_unchanged_for_machines(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    clearing = await _two_trades(house)
    period = "from=2026-05-01&to=2026-07-31"
    response = await house.http.get(f"/api/v1/clearing/fee-waivers?{period}&format=csv", headers=clearing)
    api = (await house.http.get(f"/api/v1/clearing/fee-waivers?{period}&limit=1000", headers=clearing)).json()

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="fee-waivers-2026-05-01-2026-07-31.csv"'
    )
    # The same bytes as before: no BOM, the codes, csv's own quoting, one line per fee line of the JSON.
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(CSV_HEADER)
    for line in api["lines"]:
        writer.writerow(
            [
                "true" if line[name] is True else "false" if line[name] is False else str(line[name])
                for name in CSV_HEADER
            ]
        )
    assert response.content == expected.getvalue().encode()
    assert response.content.startswith(b"line_id,trade_id,trade_date,kind,is_ip_pledge,price,item,payer,")
    assert b"'" not in response.content
