"""Addressing: the syntax of email addresses and domain names; no store, no network."""
