"""Transport: the SMTP client and the classes of its replies."""
