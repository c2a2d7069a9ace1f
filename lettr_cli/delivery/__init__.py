"""Delivery: the outbox, preparing, the sending engine, leases and send control."""
