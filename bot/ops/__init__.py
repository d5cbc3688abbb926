"""Running the assistant: the launcher (``stack``), the local cluster, training, and
retraining from the staff app with the held-out check that gates a new model."""
