"""The supervisors' wallboard: a pure fold of calls, agents' states and the clock.

``board.SupervisionBoard`` is the fold (its docstring has the theory of operation); ``state``
its state and bookkeeping (counters, the 30-minute window, staffing), ``view`` what it shows,
``conditions`` when its alerts hold and what they say, ``alerts`` the book of alerts,
``callbacks`` the promised-window alert, ``opening_hours`` whether a service is open.
"""
