"""Hookline's console: every resource's admin and API side by side (one sub-package per resource), the API root, the
dashboards.

The fourth app, above ``events``, ``hooks`` and ``deliveries``: it may import all three (an endpoint's
admin and API call delivery operations: send test, recover, delete with its log), and none of them imports
it. ``console.admin`` imports every admin module once, so each model is registered exactly once;
``console.api.urls`` routes the API. Organisation scoping (``admin_base``, ``api.tenancy``) lives here
because only the admin and the API ask which organisations a request may see.
"""
