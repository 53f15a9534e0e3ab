"""Identity: passwords, hashed single-use tokens, and the two login realms (staff and customers)."""
