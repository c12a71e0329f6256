"""Every write in the customers app; one transaction each, permission checked inside."""
