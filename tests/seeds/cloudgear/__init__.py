"""CloudGear's event types for a worker process: docs/platforms.md ("Playing a known platform"), 000, as published."""
