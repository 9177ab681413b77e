"""The event outbox: what happened, recorded in the same transaction as the change."""
