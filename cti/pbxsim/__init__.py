"""A simulated Asterisk 22: calls, agents' phones and an AMI server, for the demo and the tests.

``SimulatedPbx`` is the entry point; ``python -m cti.pbxsim`` runs one on its own with traffic.
"""

from cti.pbxsim.simulator import SimulatedPbx

__all__ = ["SimulatedPbx"]
