"""English bids on PostgreSQL run on the asyncpg driver (app/driver_bids.py); everything else takes
the unit-of-work path. Both paths must give the same answers, books and audit trail."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.bidding import driver_bids
from auction.bidding import statements as bidding
from auction.models import Bid
from auction.rules import EnglishBid, EnglishRules
from tests.api.auction_support import AuctionHouse
from tests.unit.auction.test_english_properties import Reference
from transfer.kernel.money import parse_yuan
from transfer.models import AuditEvent

# (bidder index, amount, max_amount): a proxy; a bid answered by the leader's proxy; a higher maximum
# taking the lead; two bids below the minimum; a new leader; an off-grid amount; an unregistered bidder.
SCRIPT: list[tuple[int, str, str | None]] = [
    (0, "1000.00", "1500.00"),
    (1, "1100.00", None),
    (1, "1490.00", "1600.00"),
    (0, "1000.00", "2000.00"),
    (2, "1300.00", None),
    (2, "1700.00", "1750.00"),
    (1, "1715.00", None),
    (3, "1800.00", None),
]


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    for name, cls, method in (
        ("driver", driver_bids.DriverStatements, "read_lots"),
        ("session", bidding.SessionStatements, "read_lot"),
    ):
        original = getattr(cls, method)

        async def counted(
            self: Any, params: dict[str, Any], _original: Any = original, _name: str = name
        ) -> Any:
            calls[_name] += 1
            return await _original(self, params)

        monkeypatch.setattr(cls, method, counted)
    return calls


async def _run_script(
    house: AuctionHouse, auction_id: int, bidders: list[dict[str, str]]
) -> list[tuple[int, Any]]:
    answers = []
    for index, amount, max_amount in SCRIPT:
        response = await house.bid(auction_id, bidders[index], amount, max_amount)
        body = response.json()
        body.pop("server_time", None)
        body.pop("request_id", None)
        body.pop("instance", None)  # the auction's own URL
        answers.append((response.status_code, body))
    return answers


async def test_both_bid_paths_give_the_same_answers_history_and_audit(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    calls = _counting(monkeypatch)
    _, bank = await house.bank()
    people = await house.bidders(4)
    bidders = [headers for _, headers in people]
    on_driver = await house.create(bank)
    on_session = await house.create(bank)
    for auction in (on_driver, on_session):
        for bidder in bidders[:3]:  # the fourth never registers
            await house.register(auction["id"], bidder)
    house.clock.advance(60)

    driver_answers = await _run_script(house, on_driver["id"], bidders)
    driver_calls = dict(calls)
    house.context.settings = dataclasses.replace(house.context.settings, driver_bids=False)
    session_answers = await _run_script(house, on_session["id"], bidders)

    assert driver_answers == session_answers
    assert [status for status, _ in driver_answers] == [201, 201, 201, 409, 409, 201, 422, 403]
    if backend == "postgres":
        # Two accepted bids (the third and the sixth) came from bidders this process had already seen
        # on the lot: judged on the lot as it knew it and written without a read. Every refusal
        # and every first bid of a bidder read the lot.
        assert driver_calls == {"driver": len(SCRIPT) - 2}
    else:
        assert driver_calls == {"session": len(SCRIPT)}
    assert calls["session"] == len(SCRIPT) * (2 if backend == "sqlite" else 1)

    histories = []
    for auction in (on_driver, on_session):
        history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=bidders[0])).json()[
            "items"
        ]
        view = await house.view(auction["id"], bidders[0])
        histories.append(
            ([{k: v for k, v in b.items() if k != "received_at"} for b in history], view["current_price"])
        )
    assert histories[0] == histories[1]
    async with house.context.database.read() as session:
        events = dict(
            (
                await session.execute(
                    select(AuditEvent.subject, func.count())
                    .where(AuditEvent.type == "auction.bid")
                    .group_by(AuditEvent.subject)
                )
            ).all()
        )
    assert events == {f"auction:{on_driver['id']}": 4, f"auction:{on_session['id']}": 4}


async def test_a_bid_with_an_idempotency_key_takes_the_unit_of_work_path_and_replays(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    _, [(_, bidder)], auction = await house.open_lot(1)
    headers = {**bidder, "Idempotency-Key": "bid-once"}

    first = await house.http.post(
        f"/api/v1/auctions/{auction['id']}/bids", json={"amount": "1000.00"}, headers=headers
    )
    again = await house.http.post(
        f"/api/v1/auctions/{auction['id']}/bids", json={"amount": "1000.00"}, headers=headers
    )

    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert calls == {"session": 1}
    history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=bidder)).json()["items"]
    assert len(history) == 1


async def test_a_sealed_bid_reads_the_lot_on_the_driver_then_takes_the_general_path(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    calls = _counting(monkeypatch)
    _, [(_, bidder)], auction = await house.open_lot(1, kind="sealed_first_price")

    response = await house.bid(auction["id"], bidder, "1200.00")

    assert response.status_code == 201, response.text
    assert response.json()["current_price"] is None  # sealed: nothing revealed
    assert calls == ({"driver": 1, "session": 1} if backend == "postgres" else {"session": 1})


@pytest.mark.parametrize("locking", [False, True], ids=["conditional_write", "row_lock"])
async def test_bids_racing_past_the_gate_are_each_applied_once_in_sequence(
    house: AuctionHouse, backend: str, locking: bool
) -> None:
    """Two processes' bids on one lot meet only in the database: the conditional write lets one
    through and sends the other back to read again, or the row lock queues them. Here the gate is
    bypassed on purpose."""
    if backend != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    driver = house.context.database.driver
    assert driver is not None
    _, people, auction = await house.open_lot(12)

    async def bid(bidder_id: int, amount_fen: int) -> str:
        try:
            await driver_bids.english_bid_on_driver(
                house.context,
                driver,
                bidder_id,
                auction["id"],
                amount_fen,
                None,
                locking=locking,
            )
        except Exception as error:  # a refusal: the amount was overtaken meanwhile
            return type(error).__name__
        return "accepted"

    outcomes = await asyncio.gather(
        *(bid(bidder_id, 100_000 + 1_000 * (i + 1)) for i, (bidder_id, _) in enumerate(people * 3))
    )

    accepted = outcomes.count("accepted")
    assert accepted >= 1
    assert set(outcomes) <= {"accepted", "BidRefused"}, outcomes
    history = (
        await house.http.get(f"/api/v1/auctions/{auction['id']}/bids?limit=200", headers=people[0][1])
    ).json()["items"]
    assert [item["sequence"] for item in history] == list(range(1, accepted + 1))
    # The accepted bids, replayed in sequence through the independent reference model, are each
    # admissible and end at the lot's price and leader. (Amounts need not rise: a bid under the
    # leader's maximum is accepted and answered by the leader's proxy.) The stored amounts: the
    # public history hides those of a leader's own bids.
    async with house.context.database.read() as session:
        stored = (
            await session.execute(select(Bid).where(Bid.auction_id == auction["id"]).order_by(Bid.sequence))
        ).scalars()
        amounts_fen = {bid.sequence: bid.amount_fen for bid in stored}
    reference = Reference(EnglishRules(100_000, 1_000, None), ())
    for item in history:
        candidate = EnglishBid(
            item["paddle"], amounts_fen[item["sequence"]], None, house.clock(), item["sequence"]
        )
        assert reference.admits(candidate), item
        reference = Reference(reference.rules, (*reference.accepted, candidate))
    view = await house.view(auction["id"], people[0][1])
    assert parse_yuan(view["current_price"], "current_price") == reference.price_fen()
    assert view["leading_paddle"] == reference.leader_id()
    async with house.context.database.read() as session:
        events = (
            await session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "auction.bid")
            )
        ).scalar_one()
    assert events == accepted


async def test_a_close_between_read_and_write_refuses_the_bid_and_writes_nothing(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    _, [(_, bidder)], auction = await house.open_lot(1)
    original = driver_bids.DriverStatements.read_lots
    closed_once = False

    async def read_then_close(self: Any, params: dict[str, Any]) -> Any:
        nonlocal closed_once
        rows = await original(self, params)
        if not closed_once:  # the closer commits right after this bid's read
            closed_once = True
            async with house.context.database.write_engine.begin() as connection:
                await connection.execute(
                    text("UPDATE auctions SET state = 'closed' WHERE id = :id"), {"id": auction["id"]}
                )
        return rows

    monkeypatch.setattr(driver_bids.DriverStatements, "read_lots", read_then_close)

    response = await house.bid(auction["id"], bidder, "1000.00")

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "closed"
    history = (await house.http.get(f"/api/v1/auctions/{auction['id']}/bids", headers=bidder)).json()["items"]
    assert history == []


async def test_concurrent_bids_on_one_lot_go_in_batches_and_equal_their_replay(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """Bids that arrive while the lot's batch is written are judged together as the next batch
    (app/lot_batches.py): each is answered on its own, and the history replays to the lot."""
    if backend != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    batch_sizes: list[int] = []
    original = driver_bids.english_bids_on_driver

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        batch_sizes.append(len(args[3]))
        return await original(*args, **kwargs)

    monkeypatch.setattr(driver_bids, "english_bids_on_driver", recorded)
    _, people, auction = await house.open_lot(8)
    # 32 bids at once: rising amounts, some with proxies, some below what is current by then.
    amounts = [
        (f"{1000 + 10 * ((i * 7) % 32)}.00", f"{1400 + 10 * i}.00" if i % 5 == 0 else None) for i in range(32)
    ]

    responses = await asyncio.gather(
        *(house.bid(auction["id"], people[i % 8][1], amount, top) for i, (amount, top) in enumerate(amounts))
    )

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert max(batch_sizes) > 1, batch_sizes
    assert sum(batch_sizes) == 32
    accepted = sorted(r.json()["sequence"] for r in responses if r.status_code == 201)
    assert accepted == list(range(1, statuses[201] + 1))
    history = (
        await house.http.get(f"/api/v1/auctions/{auction['id']}/bids?limit=200", headers=people[0][1])
    ).json()["items"]
    assert [item["sequence"] for item in history] == accepted
    async with house.context.database.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT bidder_id, amount_fen, max_amount_fen, sequence FROM auction_bids ORDER BY sequence"
                )
            )
        ).all()
    reference = Reference(EnglishRules(100_000, 1_000, None), ())
    for bidder_id, amount_fen, max_amount_fen, sequence in rows:
        candidate = EnglishBid(bidder_id, amount_fen, max_amount_fen, house.clock(), sequence)
        assert reference.admits(candidate), (bidder_id, amount_fen, max_amount_fen, sequence)
        reference = Reference(reference.rules, (*reference.accepted, candidate))
    view = await house.view(auction["id"], people[0][1])
    assert parse_yuan(view["current_price"], "current_price") == reference.price_fen()
    assert view["bid_count"] == statuses[201]
    async with house.context.database.read() as session:
        events = (
            await session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "auction.bid")
            )
        ).scalar_one()
    assert events == statuses[201]


async def test_a_lot_known_to_the_process_but_changed_elsewhere_is_read_again(
    house: AuctionHouse, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The process judges a bid on the lot as it last saw it (auction.bidding.KnownLot) only when
    the conditional write confirms nothing changed: a bid from another process, or a close, sends
    it back to read the lot as it is."""
    if backend != "postgres":
        pytest.skip("the driver path is PostgreSQL's")
    calls = _counting(monkeypatch)
    _, people, auction = await house.open_lot(2)
    (first_id, first), (_, second) = people
    assert (await house.bid(auction["id"], first, "1000.00")).status_code == 201
    assert (await house.bid(auction["id"], second, "1100.00")).status_code == 201
    assert calls == {"driver": 2}
    # Another process's bid: the first bidder at 1500.00, straight in the database.
    async with house.context.database.write_engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE auctions SET last_sequence = 3, bid_count = 3, price_fen = 150000,"
                " leader_id = :bidder, leader_paddle = 1, leader_max_fen = 150000, floor_fen = 150000"
                " WHERE id = :id"
            ),
            {"bidder": first_id, "id": auction["id"]},
        )

    # On the lot as the process knew it (1100.00) this would lead; on the lot as it is, it is low.
    low = await house.bid(auction["id"], second, "1200.00")
    assert low.status_code == 409, low.text
    assert low.json()["minimum"] == "1510.00"
    assert calls == {"driver": 3}
    high = await house.bid(auction["id"], second, "1600.00")
    assert high.status_code == 201, high.text
    assert (high.json()["sequence"], high.json()["current_price"]) == (4, "1600.00")
    assert calls == {"driver": 3}  # the refusal's read let the process know the lot again
    again = await house.bid(auction["id"], first, "1700.00")
    assert again.status_code == 201, again.text
    assert calls == {"driver": 3}

    async with house.context.database.write_engine.begin() as connection:
        await connection.execute(
            text("UPDATE auctions SET state = 'closed' WHERE id = :id"), {"id": auction["id"]}
        )
    closed = await house.bid(auction["id"], second, "1800.00")
    assert closed.status_code == 409, closed.text
    assert closed.json()["code"] == "closed"
    assert calls == {"driver": 4}
    async with house.context.database.read() as session:
        sequences = (
            (
                await session.execute(
                    text("SELECT sequence FROM auction_bids WHERE auction_id = :id ORDER BY sequence"),
                    {"id": auction["id"]},
                )
            )
            .scalars()
            .all()
        )
    assert sequences == [1, 2, 4, 5]  # 3 is the other process's, which wrote no row here
