"""Matching backends: one folder per engine implementing :class:`crmclean.matching.backend.MatchBackend`."""
