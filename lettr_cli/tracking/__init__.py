"""Tracking: the tracking server, recording of opens, clicks and unsubscribes, and feedback."""
