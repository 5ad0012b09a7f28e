"""Token validation for receivers: POST /api/tokens/validate/."""
