"""The portal's pages: entry (links, sign-out), endpoints, the delivery log."""
