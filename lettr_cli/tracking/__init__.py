"""Tracking: signed tokens, and (later) the tracking server and feedback parsing."""
