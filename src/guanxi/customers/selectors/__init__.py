"""Every read in the customers app; each takes the actor first and returns rows already scoped."""
