"""Several nodes, one broker: what the router hands to web nodes and what they ask of it.

NATS (with JetStream for the domain events) carries the agents' cards and states, the
wallboard and the live board from the router's node to the web nodes, and the pages' requests
the other way. ``subjects`` names them, ``link`` holds the connection, ``bus`` is the router's
side of ``cti.bus``, ``router_side`` answers the web nodes, ``feeds`` is the web node's side.
"""
