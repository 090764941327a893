"""`python -m rt_keras.cli` runs the `rt-keras` command."""

import sys

from rt_keras.cli import main

sys.exit(main())
