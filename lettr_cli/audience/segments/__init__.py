"""Segments: condition groups over contacts, written as text or JSON and evaluated in SQL.

``model`` holds the vocabulary (fields, operators, types); ``parser`` turns text into conditions
and back (``tokens`` cuts it into words, quoted strings and parentheses); ``documents`` reads
the JSON form; ``checks`` validates conditions against the store; ``sql`` builds one
where-clause (``engagement_sql`` the EXISTS over the outbox of the engagement fields, whose
values ``engagement_values`` reads); ``resolve`` is what every audience goes through; ``usage``
tells which segments use a list, topic, property or campaign; ``service`` is what the commands
call.

This file imports nothing, so that lists, topics and properties can ask ``usage`` without a cycle.
"""
