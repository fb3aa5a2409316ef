"""Every table of the system. Importing this package registers them all on Base.metadata."""

from transfer.kernel.audit_tables import AuditEvent, AuditHead, AuditSeal
from transfer.kernel.model_base import Base, UTCDateTime
from transfer.models.idempotency import IdempotencyRecord
from transfer.models.ledger import Account, LedgerTransfer
from transfer.models.loans import (  # noqa: F401
    CollateralItem,
    CollateralPledge,
    CollateralTransferTask,
    IncomeRight,
    Loan,
)
from transfer.models.market import BorrowerNotice, FeeLine, Listing, Offer, Trade  # noqa: F401
from transfer.models.participants import Participant
from transfer.models.servicing import Repayment, RepaymentShare  # noqa: F401

__all__ = [
    "Account",
    "AuditEvent",
    "AuditHead",
    "AuditSeal",
    "Base",
    "IdempotencyRecord",
    "LedgerTransfer",
    "Participant",
    "UTCDateTime",
]
