"""Usage alerts (Lago's usage_monitoring): thresholds on a subscription's usage (amount, units
of a metric, lifetime usage) or on a wallet's balance, each triggered once per threshold and
period, announced by the alert.triggered webhook.

thresholds (pure crossing rule), services (create/update/delete, flags, the one triggering
write), wallets (wallet balances as alert values), serializers, api (the endpoints). The
subscription usage side, which needs the usage layer, is usage/alerts.py."""
