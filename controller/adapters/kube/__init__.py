"""The Kubernetes API, as far as the controller uses it: one Lease, for leader election.

The controller needs no other object of the cluster: ``port`` is what the elector uses, and
``leases`` implements it over the official ``kubernetes`` client.
"""
