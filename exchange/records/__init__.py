"""Records moving through the hub: envelopes, publishing, deliveries and subscriptions."""
