"""Double opt-in (issue 19, reference §14): a contact added unverified, one confirmation mail,
and the link that makes it subscribed."""
