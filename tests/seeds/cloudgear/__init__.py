"""CloudGear's event types for a worker process: README "Playing a known platform", 000, as published."""
