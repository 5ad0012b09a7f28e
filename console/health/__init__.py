"""The admin's health pages: the dashboard and the per-endpoint health view, with server-rendered SVG charts."""
