"""Callbacks that keep the citizen's place: the pure domain (no clock, no I/O).

A citizen who asks to be called back (voice menu, overflow of a long wait, an agent's « à
rappeler ») becomes a ``CallbackRequest`` (``request``): a virtual caller of her service who
entered the line when she asked. ``rules`` decides when she may be called (her window, the
service's opening hours, the spacing between attempts), what an attempt's outcome does
(reached, retry, failed) and when a request is cancelled or expires. ``queueing`` turns the
requests that are due into the routing engine's events, so a callback is offered under the
same skills and rules as the callers waiting on the line, in its place.
"""
