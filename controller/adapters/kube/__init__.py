"""The Kubernetes API, as far as the controller uses it: one Lease, for leader election.

The controller needs no other object of the cluster; ``leases`` holds the port the elector
uses and its implementation over the official ``kubernetes`` client.
"""
