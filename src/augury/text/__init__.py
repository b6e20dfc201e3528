"""Text projects: documents, classes, labels, groups, labeling sessions, review."""
