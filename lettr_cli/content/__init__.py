"""Content: rendering templates safely, building the message, signing it."""
