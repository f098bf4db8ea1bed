"""``python -m crmclean.connectors.amocrm.emulator`` (also ``python -m crmclean.testing.amocrm_emulator``)."""

from crmclean.connectors.amocrm.emulator.cli import main

raise SystemExit(main())
