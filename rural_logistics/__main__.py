"""Allow ``python -m rural_logistics``."""

from rural_logistics.cli import main

raise SystemExit(main())
