"""iCalendar: subscription feeds and booking invites, nothing else."""
