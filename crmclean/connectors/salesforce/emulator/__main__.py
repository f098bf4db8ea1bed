"""``python -m crmclean.connectors.salesforce.emulator`` (also ``python -m crmclean.testing.salesforce_emulator``)."""

from crmclean.connectors.salesforce.emulator.cli import main

raise SystemExit(main())
