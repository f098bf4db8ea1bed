"""Test doubles of the CRMs crmclean talks to (HTTP emulators run on 127.0.0.1)."""
