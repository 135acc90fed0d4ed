"""``python -m cti.demo`` (``make demo``): the product on an embedded simulated PBX.

With ``CTI_AMI_HOST`` set it connects to that Asterisk instead, like ``python -m cti.app``.
"""

from __future__ import annotations

from cti.main import main

if __name__ == "__main__":
    main(demo=True)
