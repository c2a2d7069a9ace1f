"""Sender domains: DKIM keys, the DNS records to publish, their verification, and signing.

Nothing here prints or prompts; the ``lettr domain`` commands in ``lettr_cli.cli.domain`` do.
"""
