"""REST API conventions every Hookline view shares: base view, errors, paging, throttles, filters, schema (the console
app adds tenancy)."""
