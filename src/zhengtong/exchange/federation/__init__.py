"""Federation between platform instances (issue #5 §2): signed envelopes, instance identities, peers."""
