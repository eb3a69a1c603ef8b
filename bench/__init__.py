"""`make bench`: synthetic registries, in-process and HTTP measurements, a peer, load and fault tests."""
