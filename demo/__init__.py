"""The demo: two seeded businesses (`seed-demo`), and the mailbox where every email it sends can be read."""
