"""Alert tests reuse the wallet tests' world: customer "cust" (USD), subscription "sub" on Pro
($10 a month; tokens at $0.01, images at $1), a clock, a real webhook receiver."""

from tests.wallets.conftest import (  # noqa: F401  (fixtures)
    customer,
    make_endpoint,
    metrics,
    receiver,
    subscription,
)
