"""Support for running the demo: the mailbox where every email the demo sends can be read."""
