"""Files on this host: private modes for personal data and secrets, durable writes."""
