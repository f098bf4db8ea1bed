"""``python -m crmclean.connectors.bitrix24.emulator`` (also ``python -m crmclean.testing.bitrix24_emulator``)."""

from crmclean.connectors.bitrix24.emulator.cli import main

raise SystemExit(main())
