"""The synthetic history bench/reports.py reports on: its calendar, its people, and the SQL that writes a month."""
