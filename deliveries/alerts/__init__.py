"""Operational alerts: when an endpoint is in trouble, tell the site (events, email, Django signals).

``kinds`` names the moments and their event types, ``moments`` is what the worker, the state machine
and beat call, ``notify`` is the one gate (window, no self-delivery, no loops) and the channels,
``mail`` renders and sends the email, ``links`` signs its re-enable link.
"""
