"""Admin for corrections, the review queue, exports and promotions."""
