"""The customer portal: the site's own customers manage their organisation's endpoints and read their delivery log."""
