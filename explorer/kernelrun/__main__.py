"""``python -m explorer.kernelrun``: the kernel runner without the cowspec front end."""

import sys

from explorer.kernelrun.cli import main

sys.exit(main())
