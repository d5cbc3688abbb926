"""The knowledge base: entries and rounds loaded from reviewable YAML, ranking, the text of
answers, staff editing of entries and the queue of questions answered badly."""
