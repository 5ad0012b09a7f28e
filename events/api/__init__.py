"""REST API pieces every Hookline app shares (errors, paging, throttles, tenancy, schema), and the catalog and emit endpoints."""
