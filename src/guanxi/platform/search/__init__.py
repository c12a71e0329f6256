"""Global search: one box, many providers (customers, leads, ...), each scoped by visible_to(actor)."""
