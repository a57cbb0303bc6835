"""The flywheel: event log, training sets, retraining and the shopper simulator."""
