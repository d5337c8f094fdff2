"""`python -m churn_trainer`."""

import sys

from .cli import main

sys.exit(main())
