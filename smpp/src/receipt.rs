//! Delivery receipts (Appendix B): parsed tolerantly, formatted strictly.
