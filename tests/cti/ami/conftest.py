"""Lets the AMI tests import the recorded-behaviour server that lives beside them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
