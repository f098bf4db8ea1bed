"""``python -m crmclean.connectors.hubspot.emulator`` (also ``python -m crmclean.testing.hubspot_emulator``)."""

from crmclean.connectors.hubspot.emulator.cli import main

raise SystemExit(main())
