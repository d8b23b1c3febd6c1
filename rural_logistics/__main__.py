"""Allow ``python -m rural_logistics``."""

try:
    from rural_logistics.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line module is imported
    raise SystemExit(130) from None

raise SystemExit(main())
