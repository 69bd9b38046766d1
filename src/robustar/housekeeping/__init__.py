"""Housekeeping: disk use, garbage collection under a retention rule, and backups."""
