"""Hookline endpoints: Webhook model, signing, URL guard, and endpoint operations."""
