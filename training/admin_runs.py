"""Admin for training runs and evaluations."""
