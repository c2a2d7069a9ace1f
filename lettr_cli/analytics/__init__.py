"""Reports, the event feed and its archive (reference §16; DESIGN "Tracking, feedback,
analytics")."""
