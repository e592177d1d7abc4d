"""Service levels: working-day calendars, deadlines, the scheduler, escalation, notifications."""
