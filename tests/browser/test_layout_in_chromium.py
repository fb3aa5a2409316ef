"""The pages' layout in a real browser, on a phone (390 × 844, 320 × 640) and a laptop (1366 × 768),
in Chinese and English: no page is wider than the screen (a wide table scrolls in its own box), the
header wraps whole words and keeps Log out in its dark band, a kind, a state, a region or a time
never breaks inside a word, the focus ring and field borders stand out, and a chart's labels fit
the chart at a size one can read. Screenshots of every page at every width go to artefacts/layout/."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from app.pages import i18n
from app.pages.regions import PROVINCES
from tests.api.disposal_support import patent_loan
from tests.api.market_support import negotiated_trade, register_loan
from tests.browser.conftest import Api, People, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="module")

PHONES = [(390, 844), (320, 640)]
LAPTOP = (1366, 768)
# A bank whose name is as long as real ones are: its chart label must fit or be cut with an ellipsis.
LONG_BANK_NAME = "中国工商银行股份有限公司杭州西湖支行营业部 Demo Layout Bank"
LOT_TITLE = "Layout session 1: IP collateral of defaulted loans (集中拍卖), lot 1"
# The header may take this share of a phone's screen, no more (it took 60 % at 320 px).
HEADER_SHARE_OF_SCREEN = 0.3
# Chart text drawn smaller than this on screen is not read (it shrank to 6.5 px on a phone).
CHART_MIN_TEXT_PX = 11.0


def _terms() -> list[str]:
    """Every kind, state, desk term and province as the pages write them: short words a table must
    never break inside."""
    pairs = [
        *i18n.KIND_NAMES.values(),
        *i18n.STATE_NAMES.values(),
        *i18n.DEPOSIT_STATES.values(),
        *i18n.DESK_TERMS.values(),
    ]
    words = {word for pair in pairs for word in pair}
    words |= {name for names in PROVINCES.values() for name in names}
    return sorted(words)


class Scene:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.room_id = 0


async def _post(http: httpx.AsyncClient, path: str, body: object, key: str, status: int = 201) -> Any:
    response = await http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == status, response.text
    return response.json()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(server_url: str) -> Scene:
    """One market for every page: loans of two kinds, a fee-waived trade (the clearing desk's bars),
    a bought-out case (the bank's waterfall, the agency's pool), a live room with bids and a lot that
    has ended, all titled and named as long as real ones."""
    made = Scene()
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        api = Api(http)
        _, made.keys["clearing"] = await api.clearing()
        _, bank = await api.participant(["bank"], LONG_BANK_NAME)
        _, buyer = await api.participant(["bank"], "Layout Buyer Bank")
        _, agency = await api.participant(["agency"], "Layout IP Operating Agency", funds="2000000.00")
        _, bidder = await api.participant(["bidder"], "Layout Bidder Alpha AMC", funds="100000.00")
        _, rival = await api.participant(["bidder"], "Layout Bidder Beta Trust", funds="100000.00")
        made.keys.update(bank=bank, agency=agency, bidder=bidder)

        loan = await register_loan(http, api.bearer(bank))
        await negotiated_trade(http, loan["id"], api.bearer(bank), api.bearer(buyer))

        defaulted = await _post(http, "/api/v1/loans", patent_loan(number="ZL202110009101.X"), bank)
        case = await _post(
            http,
            f"/api/v1/loans/{defaulted['id']}/default",
            {
                "reason": "three instalments missed",
                "accrued_interest": "50000.00",
                "realization_costs": "8000.00",
            },
            bank,
        )
        pool = await _post(http, "/api/v1/pools", {"name": "电池专利运营池"}, agency)
        valid_until = (datetime.now(UTC) + timedelta(days=90)).isoformat()
        offer = await _post(
            http,
            f"/api/v1/disposals/{case['id']}/buyout-offers",
            {"price": "760000.00", "pool_id": pool["id"], "valid_until": valid_until},
            agency,
        )
        await _post(http, f"/api/v1/buyout-offers/{offer['id']}/accept", {}, bank, status=200)

        pledged = await register_loan(http, api.bearer(bank), collateral=_collateral())
        # A lot showing a performing loan's collateral: the auction of an income-right listing of
        # the loan (a bank's own lot may not sell pledged collateral).
        now = datetime.now(UTC)
        terms = {
            "lot": {"title": LOT_TITLE, "collateral_ids": [item["id"] for item in pledged["collateral"]]},
            "kind": "english",
            "start_price": "1000.00",
            "increment": "10.00",
            "deposit": "100.00",
            "starts_at": (now + timedelta(seconds=0.5)).isoformat(),
            "ends_at": (now + timedelta(seconds=3_600)).isoformat(),
        }
        listing = await _post(
            http,
            "/api/v1/listings",
            {
                "loan_id": pledged["id"],
                "kind": "income_right",
                "mode": "auction",
                "share_ppm": 100_000,
                "asking_price": "1000.00",
                "auction": terms,
            },
            bank,
        )
        room = {"id": listing["auction_id"]}
        made.room_id = int(room["id"])
        ended = await api.auction(
            bank, "Layout lot that ended unsold 流拍的拍品", starts_in_s=0.2, ends_in_s=2.5
        )
        await api.register(room["id"], bidder)
        await api.register(room["id"], rival)
        await _wait_open(http, [room["id"]])
        for amount, who in (("1000.00", bidder), ("1010.00", rival), ("1020.00", bidder)):
            await api.bid(room["id"], who, amount)
        await _wait_ended(http, ended["id"])
    return made


def _collateral() -> list[dict[str, str]]:
    base = {
        "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
        "appraisal": "1200000.00",
        "appraised_on": "2024-12-01",
        "filed_on": "2020-06-15",
    }
    return [
        {
            **base,
            "kind": "invention_patent",
            "registry_number": "ZL202010010001.X",
            "title": "固态电解质膜 membrane",
        },
        {
            **base,
            "kind": "utility_patent",
            "registry_number": "ZL202020020002.9",
            "title": "电池包冷却板 cooling plate",
        },
    ]


async def _wait_open(http: httpx.AsyncClient, auction_ids: list[int]) -> None:
    for auction_id in auction_ids:
        for _ in range(100):
            if (await http.get(f"/api/v1/auctions/{auction_id}")).json()["state"] == "open":
                break
            await _pause()
        else:
            pytest.fail(f"auction {auction_id} did not open")


async def _wait_ended(http: httpx.AsyncClient, auction_id: int) -> None:
    for _ in range(200):
        if (await http.get(f"/api/v1/auctions/{auction_id}")).json()["state"] not in (
            "scheduled",
            "open",
            "closing",
        ):
            return
        await _pause()
    pytest.fail(f"auction {auction_id} did not close")


async def _pause() -> None:
    await asyncio.sleep(0.1)


def _pages(scene: Scene) -> list[tuple[str | None, str]]:
    """(whose session, path): every page, each with the longest header its visitor gets."""
    return [
        ("bank", "/"),
        ("bank", "/auctions?phase=ended"),
        ("bidder", f"/auctions/{scene.room_id}"),
        (None, "/login"),
        ("bank", "/desk/bank"),
        ("agency", "/desk/agency"),
        ("clearing", "/desk/clearing"),
    ]


async def _visitor(people: People, scene: Scene, who: str | None, lang: str) -> Any:
    """A page of this participant (or of nobody) in this language; one browser context per person."""
    met: dict[tuple[str | None, str], Any] = people.__dict__.setdefault("layout_visitors", {})
    if (who, lang) not in met:
        page = await people.person(scene.keys[who] if who else None)
        if lang == "en":
            await page.goto("/lang/en?next=/")
        met[who, lang] = page
    return met[who, lang]


async def _show(page: Any, path: str, size: tuple[int, int]) -> None:
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await page.goto(path)
    await page.wait_for_load_state("load")


def _shot_name(lang: str, size: tuple[int, int], path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"layout/{lang}-{size[0]}-{slug}"


# How many lines a text takes on screen: the distinct tops of its text nodes' line boxes.
LINES_JS = """() => {
window.__lines = (el) => {
  const tops = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) if (rect.width > 0) tops.push(rect.top);
  }
  tops.sort((a, b) => a - b);
  let lines = 0, last = -1e9;
  for (const top of tops) { if (top - last > 6) lines += 1; last = top; }
  return lines;
};
// a text may break at its spaces, before an opening bracket and after a dash: anywhere else is inside a word
window.__words = (text) => text.trim().split(/\\s+|(?=[（(])|(?<=[-–])/).filter(Boolean).length;
}"""

HEADER_JS = """() => {
  const header = document.querySelector('header.top').getBoundingClientRect();
  const broken = [];
  for (const el of document.querySelectorAll('header.top a, header.top button, header.top .viewer')) {
    const text = el.innerText.trim();
    if (el.getBoundingClientRect().width === 0 || !text) continue;
    if (__lines(el) > __words(text)) broken.push(`${text}: ${__lines(el)} lines`);
  }
  const button = document.querySelector('header.top form.inline button');
  const logout = button && button.getBoundingClientRect();
  return {
    height: header.height, bottom: header.bottom, right: header.right, broken,
    logout: logout && {left: logout.left, right: logout.right, top: logout.top, bottom: logout.bottom},
  };
}"""

BROKEN_CELLS_JS = """(terms) => {
  const known = new Set(terms);
  const timestamp = /^\\d{4}-\\d{2}(-\\d{2})?( \\d{2}:\\d{2}(:\\d{2})?( [+-]\\d{2}:\\d{2})?)?$/;
  const broken = [];
  for (const el of document.querySelectorAll('main td, main th, main .tag, main time')) {
    const text = el.innerText.trim();
    if (!text || el.getBoundingClientRect().width === 0) continue;
    const lines = __lines(el);
    // in a table a time keeps to one line; elsewhere (the room's end) it may wrap at its spaces
    if (timestamp.test(text) && el.closest('table') && lines > 1) broken.push(`${text}: ${lines} lines`);
    else if ((known.has(text) || timestamp.test(text) || el.closest('thead')) && lines > __words(text)) broken.push(`${text}: ${lines} lines`);
  }
  return broken;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", PHONES, ids=lambda size: f"{size[0]}px")
async def test_on_a_phone_no_page_is_wider_than_the_screen_and_the_header_wraps_whole_words_with_log_out_in_it(
    scene: Scene, people: People, size: tuple[int, int], lang: str
) -> None:
    for who, path in _pages(scene):
        page = await _visitor(people, scene, who, lang)
        await _show(page, path, size)
        await page.evaluate(LINES_JS)
        await screenshot(page, _shot_name(lang, size, path))
        width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} ({lang}) is {width[0]} px wide on a {width[1]} px screen"
        header = await page.evaluate(HEADER_JS)
        assert header["broken"] == [], f"{path} ({lang}): header items broken inside words"
        assert header["right"] <= size[0]
        assert header["height"] <= HEADER_SHARE_OF_SCREEN * size[1], f"{path} ({lang}): header {header}"
        if who is not None:
            logout = header["logout"]
            assert logout["left"] >= 0 and logout["right"] <= size[0], f"{path} ({lang}): Log out off screen"
            assert logout["bottom"] <= header["bottom"], f"{path} ({lang}): Log out below the header's band"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_on_a_laptop_no_page_is_wider_than_the_screen_and_the_english_loans_table_stays_in_its_card(
    scene: Scene, people: People, lang: str
) -> None:
    for who, path in _pages(scene):
        page = await _visitor(people, scene, who, lang)
        await _show(page, path, LAPTOP)
        await screenshot(page, _shot_name(lang, LAPTOP, path))
        width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} ({lang}) is {width[0]} px wide on a {width[1]} px screen"
    loans = await _visitor(people, scene, "bank", lang)
    await _show(loans, "/desk/bank", LAPTOP)
    page_table = loans.get_by_test_id("table-loans")
    inside = await page_table.evaluate(
        """(table) => {
          const card = table.closest('.card').getBoundingClientRect();
          const box = table.parentElement;
          const scrolls = getComputedStyle(box).overflowX === 'auto';
          const right = (scrolls ? box : table).getBoundingClientRect().right;
          return right <= card.right;
        }"""
    )
    assert inside, "the loans table runs past its card"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [LAPTOP, PHONES[0]], ids=lambda size: f"{size[0]}px")
async def test_kinds_states_regions_headings_and_times_never_break_inside_a_word(
    scene: Scene, people: People, size: tuple[int, int], lang: str
) -> None:
    terms = _terms()
    for who, path in _pages(scene):
        page = await _visitor(people, scene, who, lang)
        await _show(page, path, size)
        await page.evaluate(LINES_JS)
        broken = await page.evaluate(BROKEN_CELLS_JS, terms)
        assert broken == [], f"{path} ({lang}, {size[0]} px): cells broken inside a word: {broken}"


CONTRAST_JS = """() => {
window.__contrast = (one, two) => {
  const lum = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(one), lum(two)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
};
}"""


async def test_the_focus_ring_in_the_dark_header_and_the_field_borders_stand_out_three_to_one(
    scene: Scene, people: People
) -> None:
    page = await _visitor(people, scene, "bidder", "zh")
    await _show(page, f"/auctions/{scene.room_id}", LAPTOP)
    await page.evaluate(CONTRAST_JS)
    await page.keyboard.press("Tab")  # the skip link
    await page.keyboard.press("Tab")  # the brand, in the header
    ring = await page.evaluate(
        """() => {
          const el = document.activeElement;
          const header = getComputedStyle(el.closest('header.top')).backgroundColor;
          const style = getComputedStyle(el);
          return {inHeader: !!el.closest('header.top'), style: style.outlineStyle,
                  contrast: __contrast(style.outlineColor, header)};
        }"""
    )
    assert ring["inHeader"] and ring["style"] != "none"
    assert ring["contrast"] >= 3, ring
    await screenshot(page, "layout/focus-in-header")
    borders = await page.evaluate(
        """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, .amount-choice')].map(
          (el) => [el.id || el.className, __contrast(getComputedStyle(el).borderTopColor, 'rgb(255, 255, 255)')])"""
    )
    assert borders and all(contrast >= 3 for _, contrast in borders), borders


CHART_JS = """() => [...document.querySelectorAll('figure.chart svg')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  const texts = [...svg.querySelectorAll('text')].map((text) => {
    const r = text.getBoundingClientRect();
    const title = text.querySelector('title');
    return {
      text: text.childNodes[0] ? text.childNodes[0].textContent.trim() : text.textContent.trim(),
      title: title ? title.textContent : null, cls: text.getAttribute('class'),
      left: r.left, right: r.right, px: parseFloat(getComputedStyle(text).fontSize) * scale,
    };
  });
  return {id: svg.closest('figure').dataset.testid, left: box.left, right: box.right, texts};
})"""


@pytest.mark.parametrize("size", [LAPTOP, *PHONES], ids=lambda size: f"{size[0]}px")
async def test_chart_labels_fit_their_chart_whole_or_cut_with_an_ellipsis_and_stay_legible(
    scene: Scene, people: People, size: tuple[int, int]
) -> None:
    for who, path in (("clearing", "/desk/clearing"), ("bank", "/desk/bank")):
        page = await _visitor(people, scene, who, "zh")
        await _show(page, path, size)
        charts = await page.evaluate(CHART_JS)
        assert charts, f"{path}: no chart"
        for chart in charts:
            await page.get_by_test_id(chart["id"]).scroll_into_view_if_needed()
            await screenshot(page, f"layout/chart-{size[0]}-{chart['id']}")
            for text in chart["texts"]:
                assert chart["left"] - 1 <= text["left"] and text["right"] <= chart["right"] + 1, (
                    chart["id"],
                    text,
                )
                assert text["px"] >= CHART_MIN_TEXT_PX, (chart["id"], text)
                if text["cls"] == "chart-label" and text["title"] is not None:
                    assert text["text"].endswith("…") and text["title"].startswith(text["text"][:-1])

    page = await _visitor(people, scene, "clearing", "zh")
    await _show(page, "/desk/clearing", size)
    table = page.get_by_test_id("table-by-institution")
    names = [await cell.inner_text() for cell in await table.locator("tbody th").all()]
    waived = [await row.locator("td").nth(1).inner_text() for row in await table.locator("tbody tr").all()]
    chart = page.get_by_test_id("chart-by-institution")
    labels = [
        await text.evaluate("(t) => t.querySelector('title')?.textContent ?? t.textContent")
        for text in await chart.locator("text.chart-label").all()
    ]
    values = [await text.text_content() for text in await chart.locator("text.chart-value").all()]
    assert LONG_BANK_NAME in names
    assert sorted(labels) == sorted(names)
    assert sorted(values) == sorted(waived)  # the very yuan strings of the table
