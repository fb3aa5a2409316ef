from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

from app.http.input_bounds import text
from transfer.kernel.money import format_fen
from transfer.ledger import Balances
from transfer.models import Participant
from transfer.registry.participants import ROLES


class ParticipantCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, text(200, min_length=1)]
    # The generator does not read an item's own Meta, so the list states its items' values.
    roles: Annotated[
        list[Annotated[str, text(32)]],
        msgspec.Meta(
            min_length=1,
            max_length=5,
            extra_json_schema={"extra": {"items": Schema(type=OpenAPIType.STRING, enum=list(ROLES))}},
        ),
    ]
    credit_code: Annotated[str, text(18, min_length=18)] | None = None
    qualified_investor: bool = False


# What a replay of the request that made a key says instead of the key (app/http/mutation.py).
REPLAYED_KEY_NOTE = (
    "shown once, when it was made: a replay of that request does not carry it; revoke the key if it was lost"
)


class ParticipantCreated(msgspec.Struct):
    id: int
    name: str
    roles: list[str]
    # null in a replay (the same Idempotency-Key again): a key is shown once.
    api_key: str | None
    api_key_note: str = "shown once: store it now, only its hash is kept"

    def for_replay(self) -> ParticipantCreated:
        return msgspec.structs.replace(self, api_key=None, api_key_note=REPLAYED_KEY_NOTE)


class BalancesOut(msgspec.Struct):
    available: str
    held: str

    @classmethod
    def of(cls, balances: Balances) -> BalancesOut:
        return cls(available=format_fen(balances.available_fen), held=format_fen(balances.held_fen))


class ParticipantOut(msgspec.Struct):
    id: int
    name: str
    roles: list[str]
    credit_code: str | None
    qualified_investor: bool
    # The oldest live key's prefix (its "default" key, unless revoked); all keys: GET /me/keys.
    api_key_prefix: str | None
    active: bool
    created_at: str
    balances: BalancesOut | None = None

    @classmethod
    def of(
        cls, participant: Participant, key_prefix: str | None, balances: Balances | None = None
    ) -> ParticipantOut:
        return cls(
            id=participant.id,
            name=participant.name,
            roles=sorted(participant.role_set),
            credit_code=participant.credit_code,
            qualified_investor=participant.qualified_investor,
            api_key_prefix=key_prefix,
            active=participant.active,
            created_at=participant.created_at.isoformat(),
            balances=BalancesOut.of(balances) if balances is not None else None,
        )


class ParticipantPage(msgspec.Struct):
    items: list[ParticipantOut]
    total: int
    limit: int
    offset: int
