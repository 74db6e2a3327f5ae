"""Signals other apps listen to, so accounts does not import them."""

from django.dispatch import Signal

# Sent inside the acceptance transaction when a network member's account is bound to a client,
# with ``member`` (NetworkMember) and ``invitation`` (Invitation).
member_joined = Signal()
