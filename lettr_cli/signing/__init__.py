"""Signing: the HMAC tokens of tracking links and their keys in the store."""
