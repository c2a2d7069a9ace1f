"""The audience: contacts, custom properties, lists, topics, the activity log, import and export."""
