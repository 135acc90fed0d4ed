"""The callbacks' shell: requests stored, routed in their place, placed through Asterisk.

``desk.CallbackDesk`` is the shell (its docstring has the theory of operation); ``state`` its
state and the moves its parts share, ``placing`` the offers and the calls placed, ``intake``
the requests callers make (overflow, voice menu).
"""
