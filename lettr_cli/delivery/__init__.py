"""Delivery: the SMTP transport and its reply classes (the outbox and engine come later)."""
