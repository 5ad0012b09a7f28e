"""REST API conventions every Hookline view shares: base view, errors, paging, throttles, tenancy, filters, schema."""
