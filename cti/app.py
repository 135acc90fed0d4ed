"""``python -m cti.app`` (``make run``): the product against a real Asterisk (``CTI_AMI_HOST``)."""

from __future__ import annotations

from cti.main import main

if __name__ == "__main__":
    main(demo=False)
