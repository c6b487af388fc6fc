"""Allow `python -m taxicrm`."""

import sys

from taxicrm.cli import main

sys.exit(main())
