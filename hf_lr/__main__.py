"""``python -m hf_lr``: the ``hf-lr`` command line."""

import sys

from hf_lr.cli import main

sys.exit(main())
